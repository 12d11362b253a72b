import OsmanthusBSON
import OsmanthusStorage

/// How much change history one database keeps (SPEC.md §16.4). Records older than `maxAge`, and
/// the oldest records while the database's records exceed `maxBytes`, are deleted by the
/// trimmer; resuming before the trimmed point fails with ChangeStreamHistoryLost (286).
public struct ChangeLogRetention: Sendable, Equatable {
    /// Default: 24 hours.
    public var maxAgeSeconds: Int64
    /// Default: 256 MiB of records (keys and values, uncompressed).
    public var maxBytes: Int64

    public init(maxAgeSeconds: Int64 = 86_400, maxBytes: Int64 = 256 << 20) {
        self.maxAgeSeconds = maxAgeSeconds
        self.maxBytes = maxBytes
    }

    init(decoding doc: Document) {
        self.init()
        if let v = doc["maxAgeSeconds"]?.int64Value { maxAgeSeconds = v }
        if let v = doc["maxBytes"]?.int64Value { maxBytes = v }
    }

    /// The trimmer runs at most this often, after a commit that wrote change records.
    static let checkIntervalMillis: Int64 = 1000
    /// Deletions per engine batch while trimming.
    static let trimBatch = 1000
}

extension ChangeLog {
    func retention(of database: String) -> ChangeLogRetention {
        state.withLock { $0.databases[database]?.retention } ?? defaultRetention
    }

    /// Keeps records above `sequence` from being trimmed (nil: no archiver attached).
    func setArchivePin(_ sequence: SequenceNumber?) {
        state.withLock { $0.archivePin = sequence }
    }

    /// The highest sequence the trimmer deleted in any database (0: none).
    func maxTrimmedThrough() -> SequenceNumber {
        state.withLock { s in s.databases.values.map(\.trimmedThrough).max() ?? 0 }
    }

    /// Stores `retention` for `database` durably.
    func setRetention(_ retention: ChangeLogRetention, of database: String, sync: Bool) throws {
        guard retention.maxAgeSeconds >= 0, retention.maxBytes >= 0 else {
            throw OsmanthusError(.badValue, "change log retention must not be negative")
        }
        let doc = state.withLock { s -> Document in
            s.databases[database, default: DatabaseLog()].retention = retention
            return Self.settingDocument(database, s.databases[database] ?? DatabaseLog(), defaultRetention)
        }
        try wrapping { try storage.put(ChangeLogFormat.retentionKey(database), doc.bytes, options: WriteOptions(sync: sync)) }
    }

    private static func settingDocument(_ name: String, _ log: DatabaseLog, _ fallback: ChangeLogRetention) -> Document {
        let r = log.retention ?? fallback
        return [
            "maxAgeSeconds": .int64(r.maxAgeSeconds), "maxBytes": .int64(r.maxBytes),
            "trimmedThrough": .int64(Int64(clamping: log.trimmedThrough)),
            "trimmedTime": .timestamp(increment: log.trimmedTime.1, seconds: log.trimmedTime.0),
        ]
    }

    /// Throws ChangeStreamHistoryLost when records a stream of `scope` positioned after
    /// `sequence` would need may have been trimmed.
    func checkRetained(after sequence: SequenceNumber, scope: ChangeStreamScope) throws {
        let lost = state.withLock { s -> Bool in
            switch scope {
            case .collection(let db, _), .database(let db):
                return sequence < (s.databases[db]?.trimmedThrough ?? 0)
            case .cluster:
                return s.databases.values.contains { sequence < $0.trimmedThrough }
            }
        }
        if lost {
            throw OsmanthusError(
                .changeStreamHistoryLost,
                "Resume of change stream was not possible, as the resume point may no longer be in the change log.")
        }
    }

    /// Whether a cluster time at or before `time` may have been trimmed for `scope`.
    func isTrimmed(time: (UInt32, UInt32), scope: ChangeStreamScope) -> Bool {
        state.withLock { s in
            let logs: [DatabaseLog] =
                switch scope {
                case .collection(let db, _), .database(let db): s.databases[db].map { [$0] } ?? []
                case .cluster: Array(s.databases.values)
                }
            return logs.contains { $0.trimmedThrough > 0 && !(time > $0.trimmedTime) }
        }
    }

    /// Deletes records past each database's retention, oldest first, in batches; each batch
    /// also stores the new trimmed points. Returns the number of records deleted.
    @discardableResult
    func trimRecords(nowMillis: Int64 = Clock.nowMillis()) throws -> Int {
        try trimLock.withLock { _ in try trimRecordsHoldingLock(nowMillis: nowMillis) }
    }

    private func trimRecordsHoldingLock(nowMillis: Int64) throws -> Int {
        struct Budget {
            var excessBytes: Int64
            var cutoffMillis: Int64
        }
        var budgets: [String: Budget] = state.withLock { s in
            s.settle()
            var b: [String: Budget] = [:]
            for (name, log) in s.databases {
                let r = log.retention ?? defaultRetention
                b[name] = Budget(excessBytes: log.bytes - r.maxBytes, cutoffMillis: nowMillis - r.maxAgeSeconds * 1000)
            }
            return b
        }
        var deleted = 0
        let pin = state.withLock { $0.archivePin }
        let it = storage.makeIterator(options: ReadOptions(fillCache: false))
        it.seek(ChangeLogFormat.recordPrefix)
        var batch = WriteBatch()
        var pending: [String: (SequenceNumber, (UInt32, UInt32), Int64)] = [:]  // db → (through, time, bytes)
        func flush() throws {
            guard batch.count > 0 else { return }
            // The trimmed points move before the deletions are written: a stream checking them
            // after taking its iterator either sees the records or the new point, never a gap.
            let docs = state.withLock { s -> [(String, Document)] in
                s.settle()
                return pending.map { db, p in
                    var log = s.databases[db] ?? DatabaseLog()
                    log.trimmedThrough = max(log.trimmedThrough, p.0)
                    log.trimmedTime = p.1
                    log.bytes -= p.2
                    s.databases[db] = log
                    return (db, Self.settingDocument(db, log, defaultRetention))
                }
            }
            for (db, doc) in docs { batch.put(ChangeLogFormat.retentionKey(db), doc.bytes) }
            try wrapping { try storage.write(batch) }
            batch.clear()
            pending.removeAll()
        }
        while !budgets.isEmpty, it.isValid, let seq = ChangeLogFormat.sequence(ofKey: it.key) {
            if let pin, seq > pin { break }  // not archived yet
            let size = Int64(it.key.count + it.value.count)
            let record = try ChangeRecord.Summary(decoding: it.value)
            if var b = budgets[record.database] {
                if b.excessBytes > 0 || record.wallMillis < b.cutoffMillis {
                    batch.delete(it.key)
                    deleted += 1
                    let time = ChangeLogFormat.clusterTime(wallMillis: record.wallMillis, sequence: seq)
                    guard case .timestamp(let inc, let secs) = time else { break }
                    let old = pending[record.database]?.2 ?? 0
                    pending[record.database] = (seq, (secs, inc), old + size)
                    b.excessBytes -= size
                    budgets[record.database] = b
                    if batch.count >= ChangeLogRetention.trimBatch { try flush() }
                } else {
                    // Records only get younger: this database is within retention from here on.
                    budgets[record.database] = nil
                }
            }
            it.next()
        }
        if let e = it.error { throw OsmanthusError.wrapping(e) }
        try flush()
        return deleted
    }
}
