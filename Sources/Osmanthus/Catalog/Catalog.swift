import Glibc
import OsmanthusBSON
import OsmanthusStorage
import Synchronization

/// The durable list of collections, cached in memory. Catalog changes are engine writes; the
/// cache is updated after each write succeeds. Creation, drop and rename are serialized by
/// `changeLock` so two of them never interleave.
final class Catalog: Sendable {
    private let storage: DB
    // Guards the cached entries and the next collection id.
    private let state: Mutex<State>
    /// Serializes catalog changes (create, drop, rename) end to end, I/O included.
    let changeLock = Mutex<Void>(())
    /// Bumped inside `state`'s lock by every change to the entries, so a `Collection` can keep
    /// the entry it looked up and know, with one load, whether it is still current.
    private let changes = Atomic<UInt64>(0)

    struct State {
        var entries: [String: CatalogEntry] = [:]  // by namespace
        var nextId: UInt32 = 1
        /// What collection UUIDs are derived from (`CollectionUUID`).
        var uuidSeed: [UInt8] = []
        /// False until the seed is in the engine: a fresh directory writes it with its first
        /// collection, so opening an empty directory writes nothing.
        var seedStored = false
    }

    init(storage: DB) throws {
        self.storage = storage
        var s = State()
        let it = storage.makeIterator()
        let prefix = [KeyFormat.Space.catalog.rawValue]
        it.seek(prefix)
        while it.isValid, it.key.first == prefix[0] {
            let entry = try CatalogEntry(decoding: try Document(bytes: it.value))
            s.entries[entry.namespace] = entry
            it.next()
        }
        if let e = it.error { throw OsmanthusError.wrapping(e) }
        if let raw = try storage.get(KeyFormat.nextCollectionIdKey), raw.count == 4 {
            s.nextId = raw.loadFixed32(at: 0)
        }
        if let seed = try storage.get(KeyFormat.collectionUUIDSeedKey), seed.count == CollectionUUID.seedSize {
            s.uuidSeed = seed
            s.seedStored = true
        } else {
            s.uuidSeed = CollectionUUID.makeSeed()
            // A directory from before collection UUIDs: its collections get theirs now, for good.
            if !s.entries.isEmpty {
                try storage.put(KeyFormat.collectionUUIDSeedKey, s.uuidSeed, options: WriteOptions(sync: true))
                s.seedStored = true
            }
        }
        state = Mutex(s)
    }

    /// The UUID of the collection with catalog id `id` (also of a dropped one).
    func collectionUUID(id: UInt32) -> BSONValue {
        CollectionUUID.value(seed: state.withLock { $0.uuidSeed }, id: id)
    }

    func entry(_ database: String, _ name: String) -> CatalogEntry? {
        state.withLock { $0.entries[database + "." + name] }
    }

    /// How many changes the entries have seen; an entry read at generation g is current while
    /// this is still g.
    var generation: UInt64 { changes.load(ordering: .acquiring) }

    /// The entry and the generation it belongs to, read together.
    func entryAndGeneration(_ database: String, _ name: String) -> (CatalogEntry?, UInt64) {
        state.withLock { ($0.entries[database + "." + name], changes.load(ordering: .relaxed)) }
    }

    /// Caller holds `state`'s lock and has just changed the entries.
    private func changed() {
        _ = changes.wrappingAdd(1, ordering: .releasing)
    }

    var all: [CatalogEntry] { state.withLock { Array($0.entries.values) } }

    /// Creates the collection if it does not exist; returns its entry. `events` gives the
    /// change records of a creation, committed in the same batch as the entry.
    func ensure(_ database: String, _ name: String, options: CollectionOptions, sync: Bool,
                mustNotExist: Bool = false, events: (CatalogEntry) -> WriteBatch = { _ in WriteBatch() }) throws
        -> CatalogEntry
    {
        if !mustNotExist, let e = entry(database, name) { return e }
        try Self.validate(database: database, collection: name)
        return try changeLock.withLock { _ in
            if let e = entry(database, name) {
                if mustNotExist {
                    throw OsmanthusError(.namespaceExists, "Collection \(database).\(name) already exists.")
                }
                return e
            }
            let (id, seed) = state.withLock { s -> (UInt32, [UInt8]?) in
                defer { s.nextId += 1 }
                return (s.nextId, s.seedStored ? nil : s.uuidSeed)
            }
            let entry = CatalogEntry(
                database: database, name: name, id: id, options: options, created: Clock.nowMillis())
            var batch = WriteBatch()
            batch.put(entry.key, entry.encode().bytes)
            var next: [UInt8] = []
            next.appendFixed32(id + 1)
            batch.put(KeyFormat.nextCollectionIdKey, next)
            if let seed { batch.put(KeyFormat.collectionUUIDSeedKey, seed) }
            batch.append(events(entry))
            try storage.write(batch, options: WriteOptions(sync: sync))
            state.withLock {
                $0.entries[entry.namespace] = entry
                $0.seedStored = true
                changed()
            }
            return entry
        }
    }

    /// Removes the entry; the caller purges the documents afterwards.
    /// `events` (change records) commit in the same batch.
    func remove(_ entry: CatalogEntry, sync: Bool, with events: WriteBatch = WriteBatch()) throws {
        var batch = Self.batch(deleting: entry)
        batch.append(events)
        try storage.write(batch, options: WriteOptions(sync: sync))
        state.withLock {
            _ = $0.entries.removeValue(forKey: entry.namespace)
            changed()
        }
    }

    private static func batch(deleting entry: CatalogEntry) -> WriteBatch {
        var batch = WriteBatch()
        batch.delete(entry.key)
        return batch
    }

    /// Moves an entry to a new namespace in one atomic write; documents stay where they are
    /// (their keys carry the collection id, not its name).
    func rename(_ entry: CatalogEntry, to database: String, _ name: String, dropping target: CatalogEntry?,
                sync: Bool, with events: WriteBatch = WriteBatch()) throws -> CatalogEntry {
        try Self.validate(database: database, collection: name)
        var moved = entry
        moved.database = database
        moved.name = name
        var batch = WriteBatch()
        batch.delete(entry.key)
        if let target { batch.delete(target.key) }
        batch.put(moved.key, moved.encode().bytes)
        batch.append(events)
        try storage.write(batch, options: WriteOptions(sync: sync))
        state.withLock {
            $0.entries.removeValue(forKey: entry.namespace)
            if let target { $0.entries.removeValue(forKey: target.namespace) }
            $0.entries[moved.namespace] = moved
            changed()
        }
        return moved
    }

    /// Rewrites an existing entry (collMod); the caller holds `changeLock`.
    func update(_ entry: CatalogEntry, sync: Bool, with events: WriteBatch = WriteBatch()) throws {
        var batch = WriteBatch()
        batch.put(entry.key, entry.encode().bytes)
        batch.append(events)
        try storage.write(batch, options: WriteOptions(sync: sync))
        state.withLock {
            $0.entries[entry.namespace] = entry
            changed()
        }
    }

    static func validate(database: String, collection: String) throws {
        if database.isEmpty || database.contains(where: { "/\\. \"$\0".contains($0) }) || database.utf8.count > 64 {
            throw OsmanthusError(.invalidNamespace, "Invalid database name: '\(database)'")
        }
        if collection.isEmpty || collection.hasPrefix("$") || collection.contains("\0")
            || collection.hasPrefix(".") || collection.hasSuffix(".")
        {
            throw OsmanthusError(.invalidNamespace, "Invalid collection name: '\(collection)'")
        }
    }
}

enum Clock {
    static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
