/// What the last synced write group looked like, for the next sync leader's brief wait for its
/// group to fill (SPEC.md §9.1, `DB.gatherSyncGroup`). Plain bookkeeping kept under the DB
/// monitor, apart from the DB so its policy can be tested without timing anything.
struct SyncGroupPacer {
    /// A leader never waits longer than this, however slow the last fsync was.
    static let waitCapNanos: UInt64 = 1_000_000

    /// Writers the last synced group carried (0 before the first sync).
    private(set) var expectedWriters = 0
    /// How long the next sync leader may wait: about one fsync, since merging two groups saves
    /// one fsync and waiting longer than that would lose more than it saves.
    private(set) var maxWaitNanos: UInt64 = 0

    /// Records a synced group of `writers` writers whose fsync took `syncNanos`.
    mutating func record(writers: Int, syncNanos: UInt64) {
        expectedWriters = writers
        maxWaitNanos = min(syncNanos, Self.waitCapNanos)
    }

    /// Whether a leader that finds `queued` writers queued (itself included) should wait.
    func shouldWait(queued: Int) -> Bool {
        expectedWriters > 1 && queued < expectedWriters && maxWaitNanos > 0
    }
}
