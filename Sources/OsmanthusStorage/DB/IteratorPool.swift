import Synchronization

/// Idle database iterators kept for the next bounded reads of the same state (SPEC.md §9.2).
///
/// Building a merged iterator allocates a dozen objects (a cursor per table, its block cursors
/// and key buffers, the merge's buffers) and freeing them costs as much again: for a short index
/// lookup that was a third of the query. A read view therefore builds a poolable iterator over
/// every source of its version and memtables (`PoolLayout`), narrows it to the sources that meet
/// the read's bounds (`MergingIterator.select`, `LevelIterator.reset(range:)`), and its owner
/// hands it back when done (`ReadView.recycle`). A later view of the same version and memtables
/// takes it instead of building one.
///
/// An idle iterator pins its version (and so its tables' files) and its memtables: `put` drops
/// idle iterators over any other state than the newest one put, and the database empties the pool
/// before it deletes obsolete files and when it closes.
///
/// `@unchecked Sendable`: `idle` is only touched under `lock`; an iterator is in the pool or in
/// one reader's hands, never both.
final class IteratorPool: @unchecked Sendable {
    /// One idle iterator and the identities of what it merges (compared without touching the
    /// objects: the iterator holds them, so they stay alive and their identities unique).
    private struct Idle {
        let iterator: DBIterator
        let sources: Sources
    }

    struct Sources: Equatable {
        let version: ObjectIdentifier
        let mem: ObjectIdentifier?
        let imm: ObjectIdentifier?
        let fillCache: Bool

        init(version: Version, mem: MemTable?, imm: MemTable?, fillCache: Bool) {
            self.version = ObjectIdentifier(version)
            self.mem = mem.map(ObjectIdentifier.init)
            self.imm = imm.map(ObjectIdentifier.init)
            self.fillCache = fillCache
        }

        /// Over the same version and memtables (whatever the cache setting).
        func sameState(as other: Sources) -> Bool {
            version == other.version && mem == other.mem && imm == other.imm
        }
    }

    /// Guards `idle`.
    private let lock = Mutex(())
    private var idle: [Idle] = []

    /// Idle iterators kept at most (concurrent readers each hold their own meanwhile).
    static let capacity = 4

    /// An idle iterator built over exactly these sources, removed from the pool; nil if none.
    func take(_ sources: Sources) -> DBIterator? {
        lock.withLock { _ in
            var i = idle.count
            while i > 0 {
                i -= 1
                if idle[i].sources == sources { return idle.remove(at: i).iterator }
            }
            return nil
        }
    }

    /// Keeps `iterator` for reuse, if it is poolable and shows no error. The caller must not use
    /// it again.
    func put(_ iterator: DBIterator) {
        guard let layout = iterator.poolLayout, iterator.error == nil else { return }
        let sources = layout.sources
        // Released after the lock is let go (their deinit frees memory and unpins versions).
        var stale: [Idle] = []
        lock.withLock { _ in
            // Iterators over another state are dropped: the one put last usually reads the newest.
            var i = 0
            while i < idle.count {
                if idle[i].sources.sameState(as: sources) { i += 1 } else { stale.append(idle.remove(at: i)) }
            }
            if idle.count < Self.capacity { idle.append(Idle(iterator: iterator, sources: sources)) }
        }
        _ = stale
    }

    /// Drops every idle iterator (their versions and memtables are no longer pinned by the pool).
    func removeAll() {
        let dropped = lock.withLock { _ in
            let all = idle
            idle = []
            return all
        }
        _ = dropped
    }

    /// How many iterators are idle (tests).
    var count: Int { lock.withLock { _ in idle.count } }
}

/// What a poolable iterator merges: every source of one version and its memtables, in the order
/// `Version.iterators` gives them (memtables, then each L0 table, then one iterator per non-empty
/// deeper level), so it can be narrowed to any bounds.
struct PoolLayout {
    let version: Version
    /// The memtables merged (each non-empty when the iterator was built), newest first.
    let mem: MemTable?
    let imm: MemTable?
    let fillCache: Bool
    /// The deeper levels' iterators, in child order.
    let levels: [LevelIterator]

    var memtableCount: Int { (mem == nil ? 0 : 1) + (imm == nil ? 0 : 1) }

    var sources: IteratorPool.Sources {
        IteratorPool.Sources(version: version, mem: mem, imm: imm, fillCache: fillCache)
    }

    /// Narrows `iterator` (built over this layout) to the sources whose keys may meet
    /// [`lowerBound`, `upperBound`) (empty `upperBound`: unbounded), unpositioned.
    func narrow(_ iterator: MergingIterator, lowerBound: [UInt8], upperBound: [UInt8]) {
        let memtables = memtableCount
        let level0 = version.levels[0]
        iterator.select { i in
            if i < memtables { return true }
            let j = i - memtables
            if j < level0.count { return Version.file(level0[j], meets: lowerBound, upperBound) }
            let levelIterator = levels[j - level0.count]
            let range = version.filesMeeting(level: levelIterator.level, lowerBound, upperBound)
            if range.isEmpty { return false }
            levelIterator.reset(range: range)
            return true
        }
    }
}
