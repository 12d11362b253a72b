// Osmanthus through its embedded API (Database / Collection), default DatabaseOptions.
import Osmanthus
import OsmanthusBSON

final class OsmanthusDocStore: DocStore {
    let name = "osmanthus"
    private let database: Database
    private let collection: Osmanthus.Collection

    init(directory: String) throws {
        database = try Database.open(at: directory)
        collection = database.collection("docs", in: "bench")
    }

    func insert(_ record: DocRecord) throws {
        _ = try collection.insertOne(record.document)
    }

    func insertBatch(_ records: ArraySlice<DocRecord>) throws {
        let result = try collection.insertMany(records.map(\.document))
        guard result.errors.isEmpty, result.insertedIds.count == records.count else {
            throw BenchError(
                "insertMany of \(records.count): \(result.insertedIds.count) inserted, "
                    + "errors \(result.errors.map { "\($0.index): \($0.error)" })")
        }
    }

    /// The point-read API (as SQLite's prepared `WHERE id = ?1`: the key is bound, no query
    /// is built or parsed per call).
    func get(_ id: String) throws -> [UInt8]? {
        try collection.findOne(byId: .string(id))?.bytes
    }

    func updateCityAge(_ id: String, city: String, ageDelta: Int) throws -> Bool {
        let result = try collection.updateOne(
            ["_id": .string(id)],
            ["$set": ["city": .string(city)], "$inc": ["age": .int32(Int32(ageDelta))]])
        return result.matchedCount == 1
    }

    func setField(_ id: String, field: String, value: String) throws -> Bool {
        var set = Document()
        set.append(field, .string(value))
        let result = try collection.updateOne(["_id": .string(id)], ["$set": .document(set)])
        return result.matchedCount == 1
    }

    /// The `age` index the age queries use (built once the data is in, as SQLite's).
    func prepareAgeQueries() throws {
        try collection.createIndex(["age": 1])
    }

    func prepareIndexQueries() throws {
        try collection.createIndex(["name": 1])
        try collection.createIndex(["city": 1, "age": 1])
    }

    func findName(_ name: String) throws -> Int {
        try drain(collection.find(["name": .string(name)]))
    }

    func findNameRange(_ lo: String, _ hi: String) throws -> Int {
        try drain(collection.find(["name": ["$gte": .string(lo), "$lte": .string(hi)]]))
    }

    func findCitySortedByAge(_ city: String, limit: Int) throws -> Int {
        let cursor = try collection.find(["city": .string(city)], options: FindOptions(sort: ["age": -1], limit: limit))
        var sum = 0
        var position = 0
        while let doc = try cursor.next() {
            position += 1
            if case .int32(let age)? = doc["age"] { sum &+= Int(age) * position }
        }
        return sum
    }

    private func ageFilter(_ lo: Int, _ hi: Int) -> Document {
        ["age": ["$gte": .int32(Int32(lo)), "$lte": .int32(Int32(hi))]]
    }

    func countAge(_ lo: Int, _ hi: Int) throws -> Int {
        try collection.count(ageFilter(lo, hi))
    }

    func fetchAge(_ lo: Int, _ hi: Int, limit: Int) throws -> Int {
        try drain(collection.find(ageFilter(lo, hi), options: FindOptions(limit: limit)))
    }

    /// A range on `_id` with no sort: results come in primary-key order.
    func scan(from id: String, limit: Int) throws -> Int {
        try drain(collection.find(["_id": ["$gte": .string(id)]], options: FindOptions(limit: limit)))
    }

    private func drain(_ cursor: Cursor) throws -> Int {
        var n = 0
        var bytes = 0
        while let doc = try cursor.next() {
            n += 1
            bytes &+= doc.byteCount
        }
        return bytes >= 0 ? n : 0
    }

    func groupByCity() throws -> (groups: Int, documents: Int) {
        let cursor = try collection.aggregate([
            ["$group": ["_id": "$city", "n": ["$sum": 1], "age": ["$avg": "$age"]]]
        ])
        var groups = 0
        var documents = 0
        while let group = try cursor.next() {
            groups += 1
            documents += Int(group["n"]?.exactInt64 ?? 0)
        }
        return (groups, documents)
    }

    func count() throws -> Int { try collection.count() }

    func settle() throws { try database.engine.waitForBackgroundWork() }

    func close() throws { try database.close() }
}
