import Glibc

/// A group-commit writer's own wait slot (SPEC.md §9.1): a mutex and condition of its own, not
/// the DB monitor's, so a writer that an fsync released wakes and returns from `commit` without
/// taking the DB monitor again (16 writers released at once would otherwise queue for it one
/// after another before any could write again).
///
/// Two kinds of wake-up: `unpark` (look at the DB's state again: the waiter retakes the monitor
/// and re-checks, so an early or stray one is harmless) and `release(ticket:)` (your write is
/// done: the waiter returns at once). A release names the use of the writer it is for (its
/// `ticket`, bumped on each commit), so a late release meant for an earlier write of a pooled
/// writer never ends a later write's wait.
// `@unchecked Sendable`: `mutex` guards `permit` and `releasedTicket`; the pthread objects are
// heap-allocated so their addresses never move.
final class Parker: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    /// An `unpark` not yet consumed by a wait.
    private var permit = false
    /// The ticket of the last release (0: none; tickets start at 1).
    private var releasedTicket: UInt64 = 0

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Waits until unparked or released for `ticket`, or until `deadline` (`monotonicNanos`)
    /// if given. Returns true only when released for `ticket`. Consumes a pending `unpark`.
    func park(ticket: UInt64, deadline: UInt64? = nil) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !permit && releasedTicket != ticket {
            if let deadline {
                var at = timespec()
                at.tv_sec = Int(deadline / 1_000_000_000)
                at.tv_nsec = Int(deadline % 1_000_000_000)
                if pthread_cond_timedwait(cond, mutex, &at) != 0 { break }
            } else {
                pthread_cond_wait(cond, mutex)
            }
        }
        permit = false
        return releasedTicket == ticket
    }

    /// Wakes the waiter to re-check the DB's state (or its next wait, if none waits now).
    func unpark() {
        pthread_mutex_lock(mutex)
        permit = true
        pthread_mutex_unlock(mutex)
        pthread_cond_signal(cond)
    }

    /// Tells the waiter of use `ticket` that its write is done. Whoever set the writer's `done`
    /// and `error` did so before this call (under the DB monitor, or before releasing the
    /// caller), so the waiter may read them without the monitor.
    func release(ticket: UInt64) {
        pthread_mutex_lock(mutex)
        releasedTicket = ticket
        pthread_mutex_unlock(mutex)
        pthread_cond_signal(cond)
    }
}
