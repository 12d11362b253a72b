// A thin layer over SQLite's C API: one connection, prepared statements reused.
import CSQLite

/// SQLITE_TRANSIENT (a C macro Swift cannot import): SQLite copies bound text.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

final class SQLiteConnection {
    let handle: OpaquePointer

    init(path: String) throws {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(
            path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw BenchError("sqlite3_open_v2 \(path): \(message)")
        }
        handle = db
    }

    func exec(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw BenchError("sqlite: \(sql): \(message)")
        }
    }

    /// The first column of the first row of a query, as text.
    func scalar(_ sql: String) throws -> String {
        let statement = try prepare(sql)
        defer { statement.finalize() }
        guard try statement.step() else { throw BenchError("sqlite: \(sql): no row") }
        return statement.text(0)
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BenchError("sqlite: prepare \(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
        return SQLiteStatement(statement, connection: handle)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    func close() throws {
        guard sqlite3_close(handle) == SQLITE_OK else {
            throw BenchError("sqlite: close: \(String(cString: sqlite3_errmsg(handle)))")
        }
    }
}

/// One prepared statement; `reset` before each reuse.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let connection: OpaquePointer

    init(_ statement: OpaquePointer, connection: OpaquePointer) {
        self.statement = statement
        self.connection = connection
    }

    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func bind(_ index: Int32, _ text: String) {
        sqlite3_bind_text(statement, index, text, -1, transient)
    }

    func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(statement, index, Int64(value))
    }

    /// True while there is a row; false when done.
    func step() throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw BenchError("sqlite: step: \(String(cString: sqlite3_errmsg(connection)))")
        }
    }

    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(statement, column)) }

    func text(_ column: Int32) -> String {
        sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
    }

    /// An owned copy of a text or blob column's bytes.
    func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let base = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    func finalize() { sqlite3_finalize(statement) }
}
