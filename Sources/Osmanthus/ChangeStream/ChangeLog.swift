import OsmanthusBSON
import OsmanthusStorage
import Synchronization

/// The database's change log (SPEC.md §16): writes a change record for every committed
/// document change and catalog event in the same engine batch, wakes waiting streams after
/// the commit, and keeps what retention needs (bytes per database, how far each was trimmed).
final class ChangeLog: Sendable {
    /// Off (`DatabaseOptions.changeLog = false`): no records are written and streams refuse to open.
    let enabled: Bool
    let notifier = ChangeNotifier()
    let storage: DB
    let defaultRetention: ChangeLogRetention

    struct DatabaseLog {
        var retention: ChangeLogRetention?
        /// Bytes of this database's records (keys and values).
        var bytes: Int64 = 0
        /// Every record of this database with a sequence ≤ this is deleted (0: none yet).
        var trimmedThrough: SequenceNumber = 0
        /// The cluster time of that last deleted record (seconds, increment).
        var trimmedTime: (UInt32, UInt32) = (0, 0)
    }

    struct State {
        var databases: [String: DatabaseLog] = [:]
        var lastTrimCheck: Int64 = 0
        var trimming = false
        /// Set while a `ChangeLogArchiver` is attached: records above it are not archived yet,
        /// so the trimmer keeps them whatever the retention says (SPEC.md §14.9).
        var archivePin: SequenceNumber?
        /// Bytes added to `hotDatabase`'s records and not yet counted in `databases`: nearly
        /// every commit adds to the database the one before did, and updating the dictionary
        /// (hashing the name) for each cost more than the rest of the accounting. Whoever reads
        /// `bytes` settles first.
        var hotDatabase = ""
        var hotBytes: Int64 = 0

        mutating func addBytes(_ n: Int64, of database: String) {
            if hotDatabase == database {
                hotBytes += n
            } else {
                settle()
                hotDatabase = database
                hotBytes = n
            }
        }

        /// Moves `hotBytes` into `databases`.
        mutating func settle() {
            guard hotBytes != 0 else { return }
            databases[hotDatabase, default: DatabaseLog()].bytes += hotBytes
            hotBytes = 0
        }
    }

    // Guards the per-database accounting and the trimmer's flags.
    let state = Mutex(State())
    /// Last wall time handed out, so record times never go backwards (an atomic maximum: every
    /// commit reads it, and a lock around it cost more than the clock).
    let lastWall = Atomic<Int64>(0)
    /// Held for a whole trim pass: two passes at once (the background one and an explicit
    /// `trimChangeLog`) would both count the bytes they delete and could move a trimmed point back.
    let trimLock = Mutex<Void>(())

    /// What one batch added, by database, for the accounting after it commits.
    struct Appended {
        /// The first database's bytes inline: a batch nearly always touches one database, and
        /// an array here cost an allocation per commit. `firstBytes` 0: nothing added yet.
        private var firstDatabase = ""
        private var firstBytes: Int64 = 0
        private var more: [(database: String, bytes: Int64)] = []
        /// The records' wall time (also the trimmer's clock, saving a second clock read).
        var wallMillis: Int64 = 0
        var isEmpty: Bool { firstBytes == 0 }

        /// Bytes by database, in the order they were first added.
        var bytes: [(database: String, bytes: Int64)] { (isEmpty ? [] : [(firstDatabase, firstBytes)]) + more }

        /// Adds `n` (> 0: a record has a key) bytes of `database`'s records.
        mutating func add(_ database: String, _ n: Int64) {
            if firstBytes == 0 {
                firstDatabase = database
                firstBytes = n
            } else if firstDatabase == database {
                firstBytes += n
            } else if let last = more.indices.last, more[last].database == database {
                more[last].bytes += n
            } else {
                more.append((database, n))
            }
        }

        /// Calls `body` for each database and its bytes.
        func forEach(_ body: (String, Int64) -> Void) {
            if !isEmpty { body(firstDatabase, firstBytes) }
            for m in more { body(m.database, m.bytes) }
        }
    }

    init(storage: DB, enabled: Bool, defaultRetention: ChangeLogRetention) throws {
        self.storage = storage
        self.enabled = enabled
        self.defaultRetention = defaultRetention
        var s = State()
        try Self.load(storage, into: &s)
        state.withLock { $0 = s }
    }

    /// Reads the retention settings and sums each database's record bytes.
    private static func load(_ storage: DB, into s: inout State) throws {
        let it = storage.makeIterator(options: ReadOptions(fillCache: false))
        it.seek(ChangeLogFormat.recordPrefix)
        while it.isValid, it.key.first == ChangeLogFormat.recordPrefix[0] {
            let record = try ChangeRecord.Summary(decoding: it.value)
            s.databases[record.database, default: DatabaseLog()].bytes += Int64(it.key.count + it.value.count)
            it.next()
        }
        it.seek([KeyFormat.Space.changeLogRetention.rawValue])
        while it.isValid, it.key.first == KeyFormat.Space.changeLogRetention.rawValue {
            let name = String(decoding: it.key.dropFirst(), as: UTF8.self)
            let doc = try Document(bytes: it.value)
            var log = s.databases[name] ?? DatabaseLog()
            log.retention = ChangeLogRetention(decoding: doc)
            log.trimmedThrough = UInt64(clamping: doc["trimmedThrough"]?.int64Value ?? 0)
            if case .timestamp(let i, let t)? = doc["trimmedTime"] { log.trimmedTime = (t, i) }
            s.databases[name] = log
            it.next()
        }
        if let e = it.error { throw OsmanthusError.wrapping(e) }
    }

    /// A wall-clock time in milliseconds that never goes backwards.
    func wallMillis() -> Int64 {
        let now = Clock.nowMillis()
        var seen = lastWall.load(ordering: .relaxed)
        while seen < now {
            let (exchanged, found) = lastWall.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { return now }
            seen = found
        }
        return seen
    }

    // MARK: Writing records

    /// What a batch of document changes starts from: no bytes yet, the records' wall time set.
    /// Then `append(_:to:_:)` once per change.
    func startAppending() -> Appended {
        var appended = Appended()
        if enabled { appended.wallMillis = wallMillis() }
        return appended
    }

    /// Adds the record of `changes[i]` to `batch` (stamped with its commit sequence). The batch's
    /// last record must be that change's own document write: an insert's record takes the
    /// document from it (a spliced record, SPEC.md §5), so the WAL carries the document once.
    /// The change is read in place: copying it (its catalog entry, key and documents) cost more
    /// than writing its record.
    func append(
        _ changes: UnsafeBufferPointer<DocumentChange>, _ i: Int, to batch: inout WriteBatch, _ appended: inout Appended
    ) {
        guard enabled else { return }
        // The common case, written straight from the document's bytes: an insert whose
        // `documentKey` is `{_id}`, which readers take from the document.
        if changes[i].operation == .insert, changes[i].entry.options.partitionKey == nil,
            changes[i].entry.options.sortKey == nil, let after = changes[i].after
        {
            let database = changes[i].entry.database
            let n = Self.putInsert(
                database: database, collection: changes[i].entry.name, collectionId: changes[i].entry.id,
                wallMillis: appended.wallMillis, document: after, in: &batch)
            appended.add(database, Int64(ChangeLogFormat.recordKeySize + n))
        } else if changes[i].operation == .update, changes[i].entry.options.partitionKey == nil,
            changes[i].entry.options.sortKey == nil, !changes[i].entry.options.changeStreamPreAndPostImages,
            let before = changes[i].before, let after = changes[i].after,
            let n = Self.putUpdate(
                database: changes[i].entry.database, collection: changes[i].entry.name,
                collectionId: changes[i].entry.id, wallMillis: appended.wallMillis, engineKey: changes[i].key,
                after: after, description: changes[i].updateDescription ?? UpdateDescription.diff(before, after),
                in: &batch)
        {
            // The common update (`documentKey` `{_id}`, no images), written from its parts.
            appended.add(changes[i].entry.database, Int64(ChangeLogFormat.recordKeySize + n))
        } else {
            let change = changes[i]
            appended.add(change.entry.database, put(Self.record(change, wallMillis: appended.wallMillis), in: &batch))
        }
    }

    /// Adds an insert's record whose `documentKey` is `{_id}` (left out, SPEC.md §16.2) to
    /// `batch`, whose last record must be the put of `document`; returns the value's size. The
    /// record is spliced: its head (header, names, collection id), built on the stack, followed
    /// by that put's value, so the document's bytes are neither copied into the batch again nor
    /// logged twice.
    static func putInsert(
        database: String, collection: String, collectionId: UInt32, wallMillis: Int64, document: Document,
        in batch: inout WriteBatch
    ) -> Int {
        var head = ChangeRecord.emptyInsertHead
        let n = withUnsafeMutableBytes(of: &head) { buffer -> Int in
            guard
                let headCount = ChangeRecord.encodeInsertHead(
                    database: database, collection: collection, collectionId: collectionId, wallMillis: wallMillis,
                    into: buffer)
            else { return 0 }
            batch.putStampedSplicingPrevious(
                ChangeLogFormat.recordPrefix[0], head: UnsafeRawBufferPointer(rebasing: buffer[0..<headCount]))
            return headCount + document.byteCount
        }
        if n > 0 { return n }
        // Names too long for the stack: the head from the general encoder's insert path (which
        // writes the head and then the document: here an empty one).
        var longHead: [UInt8] = []
        ChangeRecord.encodeInsert(
            database: database, collection: collection, collectionId: collectionId, wallMillis: wallMillis,
            document: UnsafeRawBufferPointer(start: nil, count: 0), into: &longHead)
        longHead.withUnsafeBytes { batch.putStampedSplicingPrevious(ChangeLogFormat.recordPrefix[0], head: $0) }
        return longHead.count + document.byteCount
    }

    /// The record of any document change (the general path: updates, deletes, replaces, and
    /// inserts into collections keyed by more than `_id`).
    static func record(_ change: DocumentChange, wallMillis wall: Int64) -> ChangeRecord {
        let images = change.entry.options.changeStreamPreAndPostImages
        let op: ChangeRecord.Operation =
            switch change.operation {
            case .insert: .insert
            case .update: .update
            case .replace: .replace
            case .delete: .delete
            }
        var record = ChangeRecord(
            operation: op, database: change.entry.database, collection: change.entry.name, wallMillis: wall)
        record.collectionId = change.entry.id
        // Only updates need the engine key (updateLookup reads the document now).
        if op == .update { record.engineKey = change.key }
        if let doc = change.after ?? change.before { record.documentKey = Self.documentKey(doc, change.entry) }
        switch op {
        case .insert, .replace: record.fullDocument = change.after
        case .update:
            if let before = change.before, let after = change.after {
                record.updateDescription = change.updateDescription ?? UpdateDescription.diff(before, after)
            }
            if images { record.fullDocument = change.after }
        default: break
        }
        if images && op != .insert { record.preImage = change.before }
        return record
    }

    /// Adds a catalog event (drop, rename, dropDatabase) to `batch`.
    func append(_ record: ChangeRecord, to batch: inout WriteBatch) -> Appended {
        var appended = Appended()
        guard enabled else { return appended }
        appended.wallMillis = record.wallMillis
        appended.add(record.database, put(record, in: &batch))
        return appended
    }

    private func put(_ record: ChangeRecord, in batch: inout WriteBatch) -> Int64 {
        // Encoded straight into the batch: no array per record.
        let count = record.encodedCount
        batch.putStamped(ChangeLogFormat.recordPrefix, valueCount: count) { record.encode(into: &$0) }
        return Int64(ChangeLogFormat.recordKeySize + count)
    }

    /// `_id` plus the partition and sort key fields: what identifies the document.
    static func documentKey(_ doc: Document, _ entry: CatalogEntry) -> Document {
        // Only `_id` (no partition or sort key, the common case): its element copied as it is.
        if entry.options.partitionKey == nil, entry.options.sortKey == nil { return ChangeRecord.idKey(of: doc) }
        var key = Document()
        for field in [entry.options.partitionKey, entry.options.sortKey].compactMap({ $0 }) where field != "_id" {
            if let v = DocumentPath.values(in: doc, at: field).first { key.append(field, v) }
        }
        key.append("_id", doc["_id"] ?? .null)
        return key
    }

    /// After the batch holding `appended` committed: account for it, wake streams, maybe trim.
    func committed(_ appended: Appended, pool: BlockingPool) {
        guard !appended.isEmpty else { return }
        let now = appended.wallMillis
        let startTrim = state.withLock { s -> Bool in
            appended.forEach { db, n in s.addBytes(n, of: db) }
            guard !s.trimming, now - s.lastTrimCheck >= ChangeLogRetention.checkIntervalMillis else { return false }
            s.lastTrimCheck = now
            s.trimming = true
            return true
        }
        notifier.signal()
        if startTrim {
            pool.submit { [self] in
                _ = try? trimRecords()
                state.withLock { $0.trimming = false }
            }
        }
    }
}
