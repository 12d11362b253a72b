import Osmanthus

/// A connection's most recently used collections, for its inline point reads (SPEC.md §13.6):
/// a `Collection` caches its catalog entry (re-read when a DDL change bumps the catalog's
/// generation), so reusing one saves a catalog lookup, under the catalog's lock, per request.
/// Each entry also keeps its "db.collection" namespace when the names are valid
/// (`Namespace.validateCollection`), checked and built once when the entry is made instead
/// of on every find. Owned by one connection, on its event loop.
struct CollectionCache: Sendable {
    static let capacity = 4

    private struct Entry: Sendable {
        var collection: Collection
        /// "db.collection", or nil when the names are not valid ones (the command fails).
        var namespace: String?
    }

    /// Most recently used first.
    private var recent: [Entry] = []

    init() {}

    /// The cached collection so named, if any.
    func cached(_ name: String, in database: String) -> Collection? {
        entry(name, in: database)?.collection
    }

    /// The cached collection so named and its namespace, if cached and its names are valid.
    func validated(_ name: String, in database: String) -> (collection: Collection, namespace: String)? {
        guard let entry = entry(name, in: database), let namespace = entry.namespace else { return nil }
        return (entry.collection, namespace)
    }

    /// The collection so named: the cached one (moved to the front) or a new one, cached.
    mutating func collection(_ name: String, in database: String, of db: Database) -> Collection {
        if let index = recent.firstIndex(where: { $0.collection.name == name && $0.collection.databaseName == database }) {
            if index > 0 { recent.insert(recent.remove(at: index), at: 0) }
            return recent[0].collection
        }
        let collection = db.collection(name, in: database)
        let valid = (try? Namespace.validateCollection(name, in: database)) != nil
        if recent.count == Self.capacity { recent.removeLast() }
        recent.insert(Entry(collection: collection, namespace: valid ? "\(database).\(name)" : nil), at: 0)
        return collection
    }

    private func entry(_ name: String, in database: String) -> Entry? {
        recent.first { $0.collection.name == name && $0.collection.databaseName == database }
    }
}
