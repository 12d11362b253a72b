// What a workload asks of an engine. Each method is one user-level operation; the adapters
// hand back owned copies of what they read, so neither engine is measured returning pointers.

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

protocol DocStore: AnyObject {
    var name: String { get }
    /// Inserts one document in its own write (SQLite: autocommit).
    func insert(_ record: DocRecord) throws
    /// Inserts documents in one write (SQLite: one transaction).
    func insertBatch(_ records: ArraySlice<DocRecord>) throws
    /// The document's stored bytes, or nil when absent.
    func get(_ id: String) throws -> [UInt8]?
    /// `$set: {city}`, `$inc: {age}`; true when the document was found.
    func updateCityAge(_ id: String, city: String, ageDelta: Int) throws -> Bool
    /// `$set: {field: value}`; true when the document was found.
    func setField(_ id: String, field: String, value: String) throws -> Bool
    /// Prepares for queries on `age` (SQLite: the expression index; Osmanthus: nothing yet).
    func prepareAgeQueries() throws
    /// Documents with lo <= age <= hi.
    func countAge(_ lo: Int, _ hi: Int) throws -> Int
    /// Up to `limit` documents with lo <= age <= hi, read; returns how many.
    func fetchAge(_ lo: Int, _ hi: Int, limit: Int) throws -> Int
    /// Up to `limit` documents from `_id` >= id in key order, read; returns how many.
    func scan(from id: String, limit: Int) throws -> Int
    /// Documents per city with their average age, over the whole collection (Osmanthus:
    /// `$group`; SQLite: `GROUP BY json_extract`); returns (groups, documents counted).
    func groupByCity() throws -> (groups: Int, documents: Int)
    /// Builds the indexes of the index workloads: `name`, and `(city, age)`.
    func prepareIndexQueries() throws
    /// Documents with name == `name`, read; returns how many.
    func findName(_ name: String) throws -> Int
    /// Documents with lo <= name <= hi, read; returns how many.
    func findNameRange(_ lo: String, _ hi: String) throws -> Int
    /// Up to `limit` documents of `city` by age descending, read; returns a checksum of the
    /// ages in order (so both engines must return the same order).
    func findCitySortedByAge(_ city: String, limit: Int) throws -> Int
    /// All documents.
    func count() throws -> Int
    /// Returns once the engine's background work is done (Osmanthus: flushes and compactions;
    /// SQLite has none, its checkpoints run inside the committing call).
    func settle() throws
    func close() throws
}

/// Before `engine`'s timed run: finish every other engine's background work, so the run does
/// not share the CPU with work the other engine left behind (the engine's own leftovers still
/// run during its own runs and count against it).
func settle(_ stores: [String: DocStore], before engine: String) throws {
    for (name, store) in stores where name != engine { try store.settle() }
}
