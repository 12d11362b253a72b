import Atomics
import CFutex
import Glibc

/// A group-commit writer's own wait slot (SPEC.md §9.1): a futex word of its own, not the DB
/// monitor's condition, so a writer that an fsync released wakes and returns from `commit` without
/// taking the DB monitor again (16 writers released at once would otherwise queue for it one
/// after another before any could write again).
///
/// Two kinds of wake-up: `unpark` (look at the DB's state again: the waiter retakes the monitor
/// and re-checks, so an early or stray one is harmless) and `release(ticket:)` (your write is
/// done: the waiter returns at once). A release names the use of the writer it is for (its
/// `ticket`, bumped on each commit), so a late release meant for an earlier write of a pooled
/// writer never ends a later write's wait.
// `@unchecked Sendable`: its shared state is three atomic words in one allocation, touched only
// through atomic operations; `consumed` belongs to the thread parking (one at a time: a pooled
// writer passes between threads through a lock).
//
// One futex word counts wake-ups; a wait sleeps while it holds the count last consumed. Unlike a
// mutex and condition variable, a wake-up costs one futex call at most (none when the waiter is
// not asleep), and the woken thread takes no lock.
final class Parker: @unchecked Sendable {
    /// Word 0: the wake-up count (the futex word, in the low half); word 1: the ticket of the
    /// last release (0: none; tickets start at 1); word 2: 1 while the waiter may be asleep.
    private let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    private let futexWord: UnsafeMutablePointer<UInt32>
    /// The wake-up count the owner's last wait consumed.
    private var consumed: UInt32 = 0

    private var count: UnsafeAtomic<UInt64> { UnsafeAtomic(at: words) }
    private var released: UnsafeAtomic<UInt64> { UnsafeAtomic(at: words + 1) }
    private var sleeping: UnsafeAtomic<UInt64> { UnsafeAtomic(at: words + 2) }

    init() {
        words = .allocate(capacity: 3)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: 3)
        // The futex call reads the count's low 32 bits (x86-64 and arm64 are little-endian).
        futexWord = UnsafeMutableRawPointer(words).assumingMemoryBound(to: UInt32.self)
    }

    deinit {
        words.deinitialize(count: 3)
        words.deallocate()
    }

    /// Waits until unparked or released for `ticket`, or until `deadline` (`monotonicNanos`)
    /// if given. Returns true only when released for `ticket`. Consumes a pending `unpark`.
    func park(ticket: UInt64, deadline: UInt64? = nil) -> Bool {
        while true {
            if released.load(ordering: .acquiring) == ticket { return true }
            let seen = UInt32(truncatingIfNeeded: count.load(ordering: .acquiring))
            if seen != consumed {
                consumed = seen
                return released.load(ordering: .acquiring) == ticket
            }
            // Announce the sleep, then look again: a waker bumps the count before it reads
            // `sleeping` (all sequentially consistent), so either this look sees its bump or it
            // sees this announcement and wakes the futex.
            sleeping.store(1, ordering: .sequentiallyConsistent)
            if UInt32(truncatingIfNeeded: count.load(ordering: .sequentiallyConsistent)) != seen {
                sleeping.store(0, ordering: .relaxed)
                continue
            }
            let timedOut: Bool
            if let deadline {
                var at = timespec()
                at.tv_sec = Int(deadline / 1_000_000_000)
                at.tv_nsec = Int(deadline % 1_000_000_000)
                timedOut = osm_futex_wait(futexWord, seen, &at) == 1
            } else {
                timedOut = osm_futex_wait(futexWord, seen, nil) == 1
            }
            sleeping.store(0, ordering: .relaxed)
            if timedOut {
                consumed = UInt32(truncatingIfNeeded: count.load(ordering: .acquiring))
                return released.load(ordering: .acquiring) == ticket
            }
        }
    }

    /// Wakes the waiter to re-check the DB's state (or its next wait, if none waits now).
    func unpark() {
        count.wrappingIncrement(ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) != 0 { osm_futex_wake_one(futexWord) }
    }

    /// Tells the waiter of use `ticket` that its write is done. Whoever set the writer's `done`
    /// and `error` did so before this call (under the DB monitor, or before releasing the
    /// caller), so the waiter may read them without the monitor.
    func release(ticket: UInt64) {
        released.store(ticket, ordering: .releasing)
        unpark()
    }
}
