/// A pinned point in the database's history: reads through it see every write with a sequence
/// ≤ `sequence` and nothing later, while writes continue. Compaction keeps the versions a live
/// snapshot can see. Released when the last reference goes away (or by `release()`).
public final class Snapshot: @unchecked Sendable {
    public let sequence: SequenceNumber
    // Weak: a snapshot outliving its database must not keep it open.
    private weak var registry: SnapshotRegistry?
    private let id: Int

    init(sequence: SequenceNumber, registry: SnapshotRegistry, id: Int) {
        self.sequence = sequence
        self.registry = registry
        self.id = id
    }

    /// Unpins the snapshot now rather than at deinit. Idempotent.
    public func release() { registry?.remove(id) }

    deinit { registry?.remove(id) }
}

/// The live snapshots of one database, so compaction knows the oldest sequence anyone reads.
final class SnapshotRegistry: @unchecked Sendable {
    // `monitor` guards `live` and `nextID`.
    private let monitor = Monitor()
    private var live: [Int: SequenceNumber] = [:]
    private var nextID = 0

    func make(_ sequence: SequenceNumber) -> Snapshot {
        monitor.withLock {
            nextID += 1
            live[nextID] = sequence
            return Snapshot(sequence: sequence, registry: self, id: nextID)
        }
    }

    func remove(_ id: Int) {
        monitor.withLock { _ = live.removeValue(forKey: id) }
    }

    /// The oldest pinned sequence, or nil when no snapshot is live.
    var oldest: SequenceNumber? { monitor.withLock { live.values.min() } }
    var count: Int { monitor.withLock { live.count } }
}
