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

    /// No secondary indexes yet: age queries are collection scans.
    func prepareAgeQueries() throws {}

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

    func close() throws { try database.close() }
}
