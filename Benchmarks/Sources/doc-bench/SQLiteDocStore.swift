// SQLite as a document store: docs(id TEXT PRIMARY KEY, body JSON), the document stored as
// JSON text through json(?), WAL with synchronous=NORMAL, prepared statements reused.
import CSQLite

final class SQLiteDocStore: DocStore {
    let name = "sqlite"
    /// Same size as Osmanthus's default block cache, so neither gets more memory for pages.
    static let cacheKiB = 64 * 1024
    static let pragmas = [
        "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-\(cacheKiB)",
    ]

    private let db: SQLiteConnection
    private let insertStatement: SQLiteStatement
    private let getStatement: SQLiteStatement
    private let updateCityAgeStatement: SQLiteStatement
    private let setFieldStatement: SQLiteStatement
    private let scanStatement: SQLiteStatement
    private var countAgeStatement: SQLiteStatement?
    private var fetchAgeStatement: SQLiteStatement?
    private var findNameStatement: SQLiteStatement?
    private var findNameRangeStatement: SQLiteStatement?
    private var citySortStatement: SQLiteStatement?
    private let begin: SQLiteStatement
    private let commit: SQLiteStatement

    init(path: String) throws {
        db = try SQLiteConnection(path: path)
        for pragma in Self.pragmas { try db.exec(pragma) }
        let mode = try db.scalar("PRAGMA journal_mode")
        guard mode == "wal" else { throw BenchError("sqlite: journal_mode is \(mode), not wal") }
        try db.exec("CREATE TABLE IF NOT EXISTS docs(id TEXT PRIMARY KEY, body JSON)")
        insertStatement = try db.prepare("INSERT INTO docs(id, body) VALUES (?1, json(?2))")
        getStatement = try db.prepare("SELECT body FROM docs WHERE id = ?1")
        updateCityAgeStatement = try db.prepare(
            "UPDATE docs SET body = json_set(body, '$.city', ?1, '$.age', "
                + "json_extract(body, '$.age') + ?2) WHERE id = ?3")
        setFieldStatement = try db.prepare(
            "UPDATE docs SET body = json_set(body, ?1, ?2) WHERE id = ?3")
        scanStatement = try db.prepare("SELECT body FROM docs WHERE id >= ?1 ORDER BY id LIMIT ?2")
        begin = try db.prepare("BEGIN")
        commit = try db.prepare("COMMIT")
    }

    private func run(_ statement: SQLiteStatement) throws {
        defer { statement.reset() }
        _ = try statement.step()
    }

    func insert(_ record: DocRecord) throws {
        insertStatement.bind(1, record.id)
        insertStatement.bind(2, record.json)
        try run(insertStatement)
    }

    func insertBatch(_ records: ArraySlice<DocRecord>) throws {
        try run(begin)
        do {
            for record in records { try insert(record) }
            try run(commit)
        } catch {
            try? db.exec("ROLLBACK")
            throw error
        }
    }

    func get(_ id: String) throws -> [UInt8]? {
        defer { getStatement.reset() }
        getStatement.bind(1, id)
        return try getStatement.step() ? getStatement.bytes(0) : nil
    }

    func updateCityAge(_ id: String, city: String, ageDelta: Int) throws -> Bool {
        updateCityAgeStatement.bind(1, city)
        updateCityAgeStatement.bind(2, ageDelta)
        updateCityAgeStatement.bind(3, id)
        try run(updateCityAgeStatement)
        return db.changes == 1
    }

    func setField(_ id: String, field: String, value: String) throws -> Bool {
        setFieldStatement.bind(1, "$." + field)
        setFieldStatement.bind(2, value)
        setFieldStatement.bind(3, id)
        try run(setFieldStatement)
        return db.changes == 1
    }

    /// The expression index the age queries use (built once the data is in, so the insert
    /// workloads do not pay for an index Osmanthus does not have).
    func prepareAgeQueries() throws {
        try db.exec("CREATE INDEX IF NOT EXISTS docs_age ON docs(json_extract(body, '$.age'))")
        countAgeStatement = try db.prepare(
            "SELECT count(*) FROM docs WHERE json_extract(body, '$.age') BETWEEN ?1 AND ?2")
        fetchAgeStatement = try db.prepare(
            "SELECT body FROM docs WHERE json_extract(body, '$.age') BETWEEN ?1 AND ?2 LIMIT ?3")
    }

    /// The expression indexes of the index workloads, as Osmanthus's `{name: 1}` and
    /// `{city: 1, age: 1}`.
    func prepareIndexQueries() throws {
        try db.exec("CREATE INDEX IF NOT EXISTS docs_name ON docs(json_extract(body, '$.name'))")
        try db.exec(
            "CREATE INDEX IF NOT EXISTS docs_city_age ON docs(json_extract(body, '$.city'), json_extract(body, '$.age'))")
        findNameStatement = try db.prepare("SELECT body FROM docs WHERE json_extract(body, '$.name') = ?1")
        findNameRangeStatement = try db.prepare(
            "SELECT body FROM docs WHERE json_extract(body, '$.name') BETWEEN ?1 AND ?2")
        citySortStatement = try db.prepare(
            "SELECT body, json_extract(body, '$.age') FROM docs WHERE json_extract(body, '$.city') = ?1 "
                + "ORDER BY json_extract(body, '$.age') DESC LIMIT ?2")
    }

    func findName(_ name: String) throws -> Int {
        guard let statement = findNameStatement else { throw BenchError("index queries not prepared") }
        defer { statement.reset() }
        statement.bind(1, name)
        return try drain(statement)
    }

    func findNameRange(_ lo: String, _ hi: String) throws -> Int {
        guard let statement = findNameRangeStatement else { throw BenchError("index queries not prepared") }
        defer { statement.reset() }
        statement.bind(1, lo)
        statement.bind(2, hi)
        return try drain(statement)
    }

    func findCitySortedByAge(_ city: String, limit: Int) throws -> Int {
        guard let statement = citySortStatement else { throw BenchError("index queries not prepared") }
        defer { statement.reset() }
        statement.bind(1, city)
        statement.bind(2, limit)
        var sum = 0
        var position = 0
        while try statement.step() {
            position += 1
            _ = statement.bytes(0)
            sum &+= statement.int(1) * position
        }
        return sum
    }

    func countAge(_ lo: Int, _ hi: Int) throws -> Int {
        guard let statement = countAgeStatement else { throw BenchError("age queries not prepared") }
        defer { statement.reset() }
        statement.bind(1, lo)
        statement.bind(2, hi)
        guard try statement.step() else { throw BenchError("count(*) returned no row") }
        return statement.int(0)
    }

    func fetchAge(_ lo: Int, _ hi: Int, limit: Int) throws -> Int {
        guard let statement = fetchAgeStatement else { throw BenchError("age queries not prepared") }
        defer { statement.reset() }
        statement.bind(1, lo)
        statement.bind(2, hi)
        statement.bind(3, limit)
        return try drain(statement)
    }

    func scan(from id: String, limit: Int) throws -> Int {
        defer { scanStatement.reset() }
        scanStatement.bind(1, id)
        scanStatement.bind(2, limit)
        return try drain(scanStatement)
    }

    private func drain(_ statement: SQLiteStatement) throws -> Int {
        var n = 0
        var bytes = 0
        while try statement.step() {
            n += 1
            bytes &+= statement.bytes(0).count
        }
        return bytes >= 0 ? n : 0
    }

    func groupByCity() throws -> (groups: Int, documents: Int) {
        let statement = try db.prepare(
            "SELECT json_extract(body, '$.city'), count(*), avg(json_extract(body, '$.age')) FROM docs "
                + "GROUP BY json_extract(body, '$.city')")
        defer { statement.finalize() }
        var groups = 0
        var documents = 0
        while try statement.step() {
            groups += 1
            documents += statement.int(1)
        }
        return (groups, documents)
    }

    func count() throws -> Int { Int(try db.scalar("SELECT count(*) FROM docs")) ?? -1 }

    func settle() throws {}

    func close() throws {
        for statement in [
            insertStatement, getStatement, updateCityAgeStatement, setFieldStatement, scanStatement,
            begin, commit,
        ] {
            statement.finalize()
        }
        countAgeStatement?.finalize()
        fetchAgeStatement?.finalize()
        findNameStatement?.finalize()
        findNameRangeStatement?.finalize()
        citySortStatement?.finalize()
        try db.close()
    }
}
