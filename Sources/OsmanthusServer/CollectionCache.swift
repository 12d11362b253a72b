import Osmanthus

/// A connection's most recently used collections, for its inline point reads (SPEC.md §13.6):
/// a `Collection` caches its catalog entry (re-read when a DDL change bumps the catalog's
/// generation), so reusing one saves a catalog lookup, under the catalog's lock, per request.
/// Owned by one connection, on its event loop.
struct CollectionCache: Sendable {
    static let capacity = 4

    /// Most recently used first.
    private var recent: [Collection] = []

    init() {}

    /// The cached collection so named, if any.
    func cached(_ name: String, in database: String) -> Collection? {
        recent.first { $0.name == name && $0.databaseName == database }
    }

    /// The collection so named: the cached one (moved to the front) or a new one, cached.
    mutating func collection(_ name: String, in database: String, of db: Database) -> Collection {
        if let index = recent.firstIndex(where: { $0.name == name && $0.databaseName == database }) {
            if index > 0 { recent.insert(recent.remove(at: index), at: 0) }
            return recent[0]
        }
        let collection = db.collection(name, in: database)
        if recent.count == Self.capacity { recent.removeLast() }
        recent.insert(collection, at: 0)
        return collection
    }
}
