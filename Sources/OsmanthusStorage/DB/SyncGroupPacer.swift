/// How many writers were in play at the last fsync of the log, for the next fsync's brief wait
/// for them (SPEC.md §9.1, `DB.gatherBeforeSync`). Plain bookkeeping kept under the DB monitor,
/// apart from the DB so its policy can be tested without timing anything.
struct SyncGroupPacer {
    /// A leader never waits longer than this, however slow the last fsync was.
    static let waitCapNanos: UInt64 = 1_000_000

    /// Writers in play at the last fsync: those it carried plus those already waiting for the
    /// next (0 before the first fsync).
    private(set) var expectedWriters = 0
    /// How long the next sync leader may wait: about one fsync, since merging two groups saves
    /// one fsync and waiting longer than that would lose more than it saves.
    private(set) var maxWaitNanos: UInt64 = 0

    /// Records an fsync that took `syncNanos` with `writers` writers in play.
    mutating func record(writers: Int, syncNanos: UInt64) {
        expectedWriters = writers
        maxWaitNanos = min(syncNanos, Self.waitCapNanos)
    }

    /// Whether a syncer that finds `pending` writers waiting for the fsync (its own group's
    /// included) should wait for more.
    func shouldWait(pending: Int) -> Bool {
        expectedWriters > 1 && pending < expectedWriters && maxWaitNanos > 0
    }
}
