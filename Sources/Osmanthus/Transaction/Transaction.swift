import OsmanthusBSON
import OsmanthusStorage

/// A multi-document atomic batch (`Database.transaction`): reads see one engine snapshot plus
/// the transaction's own pending writes; writes are buffered and applied at commit in one
/// engine `WriteBatch`, so after any crash all of them or none are there.
///
/// Commit is optimistic, first committer wins: it locks the stripes of every key the
/// transaction read or wrote, checks that each still holds the bytes its snapshot held, and
/// only then writes. A key changed by anyone since the snapshot (another transaction, or a
/// plain write, which locks its key the same way) fails the commit with WriteConflict (112)
/// and nothing is written.
///
/// Isolation is snapshot isolation: keys a scan did not find are not watched, so a document
/// inserted concurrently into a scanned range is not a conflict (no phantom protection), and
/// two transactions that each read what the other writes may both commit (write skew) unless
/// one of them also writes a key the other read.
///
/// A transaction belongs to the closure it is given to: use it from that thread only, and not
/// after the closure returns. One from `Database.startTransaction()` belongs to its caller, who
/// must use it from one thread at a time (handing it between threads under a lock is fine) and
/// end it with `commit()` or `abort()`.
public final class Transaction {
    let database: Database
    private let snapshot: Snapshot
    /// What the snapshot held (nil: absent) for every key read from it.
    private var observed: [[UInt8]: Stored] = [:]
    /// Buffered writes by key; the last write of a key wins.
    private var pending: [[UInt8]: Pending] = [:]
    private var finished = false

    struct Stored {
        var bytes: [UInt8]?
    }

    /// A buffered document write: its bytes (nil: delete), its collection, and whether the
    /// last write replaced the document (for the change record).
    struct Pending {
        var bytes: [UInt8]?
        var entry: CatalogEntry
        var replaced: Bool
    }

    init(database: Database) {
        self.database = database
        snapshot = database.storage.snapshot()
    }

    deinit { snapshot.release() }

    /// A collection as this transaction sees it.
    public func collection(_ name: String, in databaseName: String) -> TransactionCollection {
        TransactionCollection(transaction: self, collection: database.collection(name, in: databaseName))
    }

    /// Number of buffered document writes.
    public var pendingWriteCount: Int { pending.count }

    // MARK: Reads and writes of keys

    func checkOpen() throws {
        if finished { throw OsmanthusError(.illegalOperation, "the transaction has already ended") }
    }

    /// The value of `key` as this transaction sees it.
    func read(_ key: [UInt8]) throws -> [UInt8]? {
        try checkOpen()
        if let p = pending[key] { return p.bytes }
        if let o = observed[key] { return o.bytes }
        let bytes = try wrapping { try database.storage.get(key, options: ReadOptions(snapshot: snapshot)) }
        observed[key] = Stored(bytes: bytes)
        return bytes
    }

    /// Every key under `prefix` with its value as this transaction sees it, in key order.
    func scan(prefix: [UInt8]) throws -> [([UInt8], [UInt8])] {
        try checkOpen()
        var merged: [[UInt8]: [UInt8]] = [:]
        try wrapping {
            let it = database.storage.makeIterator(options: ReadOptions(snapshot: snapshot))
            it.seek(prefix)
            while it.isValid, it.key.starts(with: prefix) {
                let key = it.key
                let value = it.value
                if observed[key] == nil { observed[key] = Stored(bytes: value) }
                merged[key] = value
                it.next()
            }
            if let e = it.error { throw e }
        }
        for (key, write) in pending where key.starts(with: prefix) {
            merged[key] = write.bytes
        }
        return merged.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ($0.key, $0.value) }
    }

    func put(_ key: [UInt8], _ value: [UInt8], in entry: CatalogEntry, replacing: Bool = false) throws {
        try checkOpen()
        pending[key] = Pending(bytes: value, entry: entry, replaced: replacing)
    }

    func delete(_ key: [UInt8], in entry: CatalogEntry) throws {
        try checkOpen()
        pending[key] = Pending(bytes: nil, entry: entry, replaced: false)
    }

    // MARK: Commit

    /// Validates and applies the buffered writes; WriteConflict (112) when a key the
    /// transaction touched changed since its snapshot. Ends the transaction either way.
    public func commit() throws {
        try checkOpen()
        defer { end() }
        guard !pending.isEmpty else { return }  // read-only: the snapshot was consistent
        try wrapping {
            // What the snapshot held for written keys that were never read.
            var expected = observed
            for key in pending.keys where expected[key] == nil {
                expected[key] = Stored(bytes: try database.storage.get(key, options: ReadOptions(snapshot: snapshot)))
            }
            try database.locks.withLocks(keys: Array(expected.keys)) {
                for (key, seen) in expected where try database.storage.get(key) != seen.bytes {
                    throw OsmanthusError(
                        .writeConflict,
                        "WriteConflict: a document this transaction read or wrote was changed by another "
                            + "write since the transaction began; retry the transaction")
                }
                var changes: [DocumentChange] = []
                for (key, write) in pending.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    let before = try expected[key]?.bytes.map { try Document(bytes: $0) }
                    let after = try write.bytes.map { try Document(bytes: $0) }
                    switch (before, after) {
                    case (nil, nil): continue  // inserted and deleted again inside the transaction
                    case (nil, let doc?): changes.append(.insert(doc, key: key, in: write.entry))
                    case (let doc?, nil): changes.append(.delete(doc, key: key, in: write.entry))
                    case (let old?, let new?):
                        changes.append(.modify(old, to: new, replacing: write.replaced, key: key, in: write.entry))
                    }
                }
                try database.commit(changes)
            }
        }
    }

    /// Discards the buffered writes; the transaction is over.
    public func abort() { end() }

    /// Whether `commit()` or `abort()` ended it.
    public var isFinished: Bool { finished }

    /// Drops the buffered writes and unpins the snapshot.
    func end() {
        finished = true
        pending.removeAll()
        observed.removeAll()
        snapshot.release()
    }
}
