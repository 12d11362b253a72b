import OsmanthusBSON
import OsmanthusStorage
import Synchronization

/// An Osmanthus database directory: named databases of collections of BSON documents, stored in
/// one storage engine. Thread-safe; open once per directory (a second open is `.busy`).
///
/// ```swift
/// let db = try Database.open(at: "/var/lib/app")
/// let users = db.collection("users", in: "app")
/// try users.insertOne(["name": "Ada"])
/// ```
public final class Database: Sendable {
    public let path: String
    let storage: DB
    let catalog: Catalog
    let options: DatabaseOptions
    let locks = KeyLocks()
    /// Change records, their retention and the streams' wake-ups (SPEC.md §16).
    let changeLog: ChangeLog
    let indexCatalog: IndexCatalog
    /// Stripes over unique index keys, taken after `locks` (never before).
    let indexLocks = KeyLocks()
    /// Set once in open, stopped in close.
    private let ttl = Mutex<TTLMonitor?>(nil)
    /// Threads on which the async API runs blocking engine work (see `BlockingPool`).
    let pool = BlockingPool()
    /// Trial planning's winners per collection and query shape (SPEC.md §11.6).
    let planCache = PlanCache()

    private init(path: String, storage: DB, options: DatabaseOptions) throws {
        self.path = path
        self.storage = storage
        self.options = options
        catalog = try Catalog(storage: storage)
        changeLog = try ChangeLog(
            storage: storage, enabled: options.changeLog, defaultRetention: options.changeLogRetention)
        indexCatalog = try IndexCatalog(storage: storage)
    }

    var indexMaintainer: IndexMaintainer {
        IndexMaintainer(storage: storage, catalog: indexCatalog, locks: indexLocks)
    }

    public static func open(at path: String, options: DatabaseOptions = DatabaseOptions()) throws -> Database {
        do {
            let storage = try DB.open(at: path, options: options.storage)
            do {
                let db = try Database(path: path, storage: storage, options: options)
                try db.purgeOrphans()
                try db.restartInterruptedBuilds()
                if options.ttlMonitorInterval > 0 {
                    let monitor = TTLMonitor(database: db, interval: options.ttlMonitorInterval)
                    db.ttl.withLock { $0 = monitor }
                    monitor.start()
                }
                return db
            } catch {
                try? storage.close()
                throw error
            }
        } catch {
            throw OsmanthusError.wrapping(error)
        }
    }

    public func close() throws {
        ttl.withLock { $0 }?.stop()
        pool.shutdown()
        do { try storage.close() } catch { throw OsmanthusError.wrapping(error) }
    }

    /// The storage engine underneath (statistics, snapshots, compaction).
    public var engine: DB { storage }

    deinit { pool.shutdown() }

    var writeOptions: WriteOptions { WriteOptions(sync: options.syncWrites) }

    // MARK: Collections

    /// A handle on a collection; it is created by its first write.
    public func collection(_ name: String, in database: String) -> Collection {
        Collection(database: self, databaseName: database, name: name)
    }

    @discardableResult
    public func createCollection(_ name: String, in database: String, options: CollectionOptions = CollectionOptions())
        throws -> Collection
    {
        if let pk = options.partitionKey, pk.isEmpty || pk.hasPrefix("$") {
            throw OsmanthusError(.badValue, "invalid partition key field '\(pk)'")
        }
        if options.sortKey != nil && options.partitionKey == nil {
            throw OsmanthusError(.badValue, "a sort key needs a partition key")
        }
        guard (1...65536).contains(options.partitions) else {
            throw OsmanthusError(.badValue, "partitions must be between 1 and 65536")
        }
        _ = try wrapping { try ensureCollection(database, name, options: options, mustNotExist: true) }
        return collection(name, in: database)
    }

    public func listDatabases() throws -> [DatabaseInfo] {
        var sizes: [String: Int64] = [:]
        for entry in catalog.all {
            sizes[entry.database, default: 0] += try collection(entry.name, in: entry.database).approximateSize()
        }
        return sizes.keys.sorted().map { DatabaseInfo(name: $0, sizeOnDisk: sizes[$0] ?? 0, empty: false) }
    }

    public func listCollections(in database: String) throws -> [CollectionInfo] {
        catalog.all.filter { $0.database == database }.sorted { $0.name < $1.name }.map { entry in
            var opts = Document()
            if let pk = entry.options.partitionKey { opts.append("partitionKey", .string(pk)) }
            if let sk = entry.options.sortKey { opts.append("sortKey", .string(sk)) }
            if entry.options.partitions != 1 { opts.append("partitions", .int32(Int32(entry.options.partitions))) }
            if entry.options.changeStreamPreAndPostImages {
                opts.append("changeStreamPreAndPostImages", .document(["enabled": .bool(true)]))
            }
            return CollectionInfo(
                name: entry.name, type: "collection", options: opts, uuid: catalog.collectionUUID(id: entry.id))
        }
    }

    /// Drops a collection and its documents; false when it did not exist.
    @discardableResult
    public func dropCollection(_ name: String, in database: String) throws -> Bool {
        try wrapping {
            try catalog.changeLock.withLock { _ in
                guard let entry = catalog.entry(database, name) else { return false }
                var event = WriteBatch()
                let logged = changeLog.append(ChangeRecord.drop(entry, wallMillis: changeLog.wallMillis()), to: &event)
                try locks.withAllLocks {
                    try indexCatalog.removeAll(of: entry.id, sync: options.syncWrites)
                    try catalog.remove(entry, sync: options.syncWrites, with: event)
                }
                changeLog.committed(logged, pool: pool)
                try purge(prefix: entry.documentPrefix)
                try purge(prefix: IndexFormat.collectionEntryPrefix(entry.id))
                return true
            }
        }
    }

    public func dropDatabase(_ database: String) throws {
        for entry in catalog.all where entry.database == database {
            try dropCollection(entry.name, in: database)
        }
        // After the drops, as MongoDB orders them; ends the database's streams.
        var event = WriteBatch()
        let logged = changeLog.append(
            ChangeRecord(operation: .dropDatabase, database: database, collection: nil, wallMillis: changeLog.wallMillis()),
            to: &event)
        try wrapping { try storage.write(event, options: writeOptions) }
        changeLog.committed(logged, pool: pool)
    }

    public func renameCollection(
        _ name: String, in database: String, to newName: String, in newDatabase: String, dropTarget: Bool = false
    ) throws {
        try wrapping {
            try catalog.changeLock.withLock { _ in
                guard let entry = catalog.entry(database, name) else {
                    throw OsmanthusError(.namespaceNotFound, "source namespace does not exist")
                }
                let target = catalog.entry(newDatabase, newName)
                if target != nil && !dropTarget {
                    throw OsmanthusError(.namespaceExists, "target namespace exists")
                }
                var event = WriteBatch()
                var logged = ChangeLog.Appended()
                if let target {
                    logged = changeLog.append(ChangeRecord.drop(target, wallMillis: changeLog.wallMillis()), to: &event)
                }
                let record = ChangeRecord.rename(entry, to: newDatabase, newName, wallMillis: changeLog.wallMillis())
                for (db, n) in changeLog.append(record, to: &event).bytes { logged.add(db, n) }
                logged.wallMillis = record.wallMillis
                _ = try catalog.rename(
                    entry, to: newDatabase, newName, dropping: target, sync: options.syncWrites, with: event)
                changeLog.committed(logged, pool: pool)
                if let target {
                    try locks.withAllLocks { try indexCatalog.removeAll(of: target.id, sync: options.syncWrites) }
                    try purge(prefix: target.documentPrefix)
                    try purge(prefix: IndexFormat.collectionEntryPrefix(target.id))
                }
            }
        }
    }

    /// Turns the storing of pre- and post-images for change streams on or off (MongoDB's
    /// `collMod` with `changeStreamPreAndPostImages`).
    public func setChangeStreamPreAndPostImages(_ enabled: Bool, for name: String, in database: String) throws {
        try wrapping {
            try catalog.changeLock.withLock { _ in
                guard var entry = catalog.entry(database, name) else {
                    throw OsmanthusError(.namespaceNotFound, "ns does not exist: \(database).\(name)")
                }
                let before = entry.options
                entry.options.changeStreamPreAndPostImages = enabled
                var event = WriteBatch()
                let logged = changeLog.append(
                    ChangeRecord.modify(entry, before: before, wallMillis: changeLog.wallMillis()), to: &event)
                try catalog.update(entry, sync: options.syncWrites, with: event)
                changeLog.committed(logged, pool: pool)
            }
        }
    }

    // MARK: Housekeeping

    /// Deletes every key under `prefix` in batches (documents of a dropped collection). Safe to
    /// stop at any point: the catalog no longer names the prefix, and open finishes the job.
    func purge(prefix: [UInt8]) throws {
        let it = storage.makeIterator(options: ReadOptions(fillCache: false))
        it.seek(prefix)
        var batch = WriteBatch()
        while it.isValid, it.key.starts(with: prefix) {
            batch.delete(it.key)
            if batch.count >= 1000 {
                try storage.write(batch)
                batch.clear()
            }
            it.next()
        }
        if let e = it.error { throw e }
        try storage.write(batch)
    }

    /// Removes documents whose collection id is no longer in the catalog (a drop interrupted by a
    /// crash).
    func purgeOrphans() throws {
        let live = Set(catalog.all.map(\.id))
        let it = storage.makeIterator(options: ReadOptions(fillCache: false))
        var cursor: [UInt8] = [KeyFormat.Space.documents.rawValue]
        while true {
            it.seek(cursor)
            guard it.isValid, it.key.first == KeyFormat.Space.documents.rawValue, it.key.count >= 5 else { break }
            let key = it.key
            let id = UInt32(key[1]) << 24 | UInt32(key[2]) << 16 | UInt32(key[3]) << 8 | UInt32(key[4])
            let prefix = Array(key[0..<5])
            if !live.contains(id) { try purge(prefix: prefix) }
            guard id < UInt32.max else { break }
            let next = id + 1
            cursor = [KeyFormat.Space.documents.rawValue, UInt8(next >> 24), UInt8(truncatingIfNeeded: next >> 16),
                      UInt8(truncatingIfNeeded: next >> 8), UInt8(truncatingIfNeeded: next)]
        }
        if let e = it.error { throw e }
        try purgeOrphanIndexes(liveCollections: live)
    }
}

/// Runs `body`, turning lower layers' errors into `OsmanthusError`.
@inline(__always)
func wrapping<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw OsmanthusError.wrapping(error) }
}
