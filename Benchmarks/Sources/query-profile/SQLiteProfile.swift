// The SQLite side of query-profile: the same documents as JSON text in `docs(id, body)`, the
// same three expression indexes and pragmas as doc-bench's SQLite store, and the same query
// shapes through statements prepared once, so `run-sqlite` with N and with 0 queries gives
// SQLite's instructions per query beside Osmanthus's.
import CSQLite
import Foundation

/// SQLITE_TRANSIENT (a C macro Swift cannot import): SQLite copies bound text.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

enum SQLiteProfile {
    static func fail(_ db: OpaquePointer?, _ what: String) -> Never {
        print("sqlite: \(what): \(db.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection")")
        exit(1)
    }

    static func open(_ path: String) -> OpaquePointer {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
            == SQLITE_OK, let db
        else { fail(db, "open \(path)") }
        for sql in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-65536"] {
            exec(db, sql)
        }
        return db
    }

    static func exec(_ db: OpaquePointer, _ sql: String) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { fail(db, sql) }
    }

    static func prepare(_ db: OpaquePointer, _ sql: String) -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else { fail(db, sql) }
        return statement
    }

    /// `query-profile load-sqlite DIR DOCS`: `docs` as built by `load`, as JSON.
    static func load(_ dir: String, _ docs: [(id: String, name: String, age: Int, city: String)]) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let db = open(dir + "/docs.sqlite")
        exec(db, "CREATE TABLE IF NOT EXISTS docs(id TEXT PRIMARY KEY, body JSON)")
        let insert = prepare(db, "INSERT INTO docs(id, body) VALUES (?1, json(?2))")
        let note = String(repeating: "x", count: 60)
        for (i, d) in docs.enumerated() {
            if i % 1000 == 0 { exec(db, "BEGIN") }
            let json = "{\"_id\":\"\(d.id)\",\"name\":\"\(d.name)\",\"age\":\(d.age),\"city\":\"\(d.city)\","
                + "\"tags\":[\"a\",\"b\"],\"note\":\"\(note)\"}"
            sqlite3_bind_text(insert, 1, d.id, -1, transient)
            sqlite3_bind_text(insert, 2, json, -1, transient)
            guard sqlite3_step(insert) == SQLITE_DONE else { fail(db, "insert") }
            sqlite3_reset(insert)
            if i % 1000 == 999 || i == docs.count - 1 { exec(db, "COMMIT") }
        }
        sqlite3_finalize(insert)
        exec(db, "CREATE INDEX IF NOT EXISTS docs_name ON docs(json_extract(body, '$.name'))")
        exec(db, "CREATE INDEX IF NOT EXISTS docs_city_age ON docs(json_extract(body, '$.city'), json_extract(body, '$.age'))")
        exec(db, "CREATE INDEX IF NOT EXISTS docs_age ON docs(json_extract(body, '$.age'))")
        sqlite3_close(db)
    }

    /// `query-profile run-sqlite DIR WORKLOAD N`: the workload's SQL, prepared once, N times
    /// with the same parameters as the Osmanthus run.
    static func run(_ dir: String, workload: String, ops: Int, names: [String], cities: [String], rng: inout Rng,
                    warm: Bool) {
        let db = open(dir + "/docs.sqlite")
        if warm {
            // Every page of the three indexes and of the table, as query-profile's `warm`.
            var seen: Int64 = 0
            for sql in ["SELECT count(*) FROM docs WHERE json_extract(body, '$.name') >= ''",
                        "SELECT count(*) FROM docs WHERE json_extract(body, '$.city') >= ''",
                        "SELECT count(*) FROM docs WHERE json_extract(body, '$.age') >= 0",
                        "SELECT sum(length(body)) FROM docs"] {
                let s = prepare(db, sql)
                while sqlite3_step(s) == SQLITE_ROW { seen += sqlite3_column_int64(s, 0) }
                sqlite3_finalize(s)
            }
            print("warmed \(seen)")
        }
        let sql: String
        switch workload {
        case "eq": sql = "SELECT body FROM docs WHERE json_extract(body, '$.name') = ?1"
        case "range10", "range1000": sql = "SELECT body FROM docs WHERE json_extract(body, '$.name') BETWEEN ?1 AND ?2"
        case "sort":
            sql = "SELECT body, json_extract(body, '$.age') FROM docs WHERE json_extract(body, '$.city') = ?1 "
                + "ORDER BY json_extract(body, '$.age') DESC LIMIT 100"
        case "count": sql = "SELECT count(*) FROM docs WHERE json_extract(body, '$.age') BETWEEN ?1 AND ?2"
        case "fetch100": sql = "SELECT body FROM docs WHERE json_extract(body, '$.age') BETWEEN ?1 AND ?2 LIMIT 100"
        default:
            print("unknown workload \(workload)")
            exit(2)
        }
        let statement = prepare(db, sql)
        let docs = names.count
        let total = runQueries(statement, workload: workload, ops: ops, names: names, cities: cities, rng: &rng)
        sqlite3_finalize(statement)
        sqlite3_close(db)
        print("docs \(docs) ops \(ops) results \(total)")
    }

    /// The queries alone (see query-profile's `runQueries`: the same callgrind toggle counts them).
    @inline(never)
    static func runQueries(_ statement: OpaquePointer, workload: String, ops: Int, names: [String], cities: [String],
                           rng: inout Rng) -> Int {
        let docs = names.count
        var total = 0
        for _ in 0..<ops {
            switch workload {
            case "eq":
                sqlite3_bind_text(statement, 1, names[rng.below(docs)], -1, transient)
            case "range10", "range1000":
                let w = workload == "range10" ? 10 : 1000
                let lo = rng.below(docs - w)
                sqlite3_bind_text(statement, 1, names[lo], -1, transient)
                sqlite3_bind_text(statement, 2, names[lo + w - 1], -1, transient)
            case "sort":
                sqlite3_bind_text(statement, 1, cities[rng.below(cities.count)], -1, transient)
            default:
                let a = Int64(18 + rng.below(61))
                sqlite3_bind_int64(statement, 1, a)
                sqlite3_bind_int64(statement, 2, a + 2)
            }
            while sqlite3_step(statement) == SQLITE_ROW {
                if workload == "count" {
                    total += Int(sqlite3_column_int64(statement, 0))
                } else {
                    // As doc-bench: the body's bytes are copied out.
                    let n = Int(sqlite3_column_bytes(statement, 0))
                    if n > 0, let p = sqlite3_column_blob(statement, 0) {
                        total += Array(UnsafeRawBufferPointer(start: p, count: n)).isEmpty ? 0 : 1
                    }
                }
            }
            sqlite3_reset(statement)
        }
        return total
    }
}
