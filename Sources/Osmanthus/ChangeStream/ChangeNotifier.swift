import Glibc
import Synchronization

/// Wakes change-stream consumers after commits that wrote change records. A consumer reads the
/// generation, reads the log, and if it found nothing waits for the generation to move past
/// the one it read — so a commit between its read and its wait is never missed. Async waiters
/// park continuations; threads that must block (the server's command threads) wait on a
/// condition variable.
///
/// @unchecked Sendable: the condition variable and its mutex are heap-allocated, never move,
/// and are only used through pthread calls; everything else is in `state` (a `Mutex`).
final class ChangeNotifier: @unchecked Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextId: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits cancelled (or timed out) before their continuation was registered.
        var released: Set<UInt64> = []
        /// Threads in `blockingWait`; the condition is broadcast only when there are some.
        var blockingWaiters = 0
    }

    // Guards the generation and the suspended waiters.
    private let state = Mutex(State())

    // `blockingMutex` orders a blocking waiter's check of the generation before `signal`'s
    // broadcast; `blockingCondition` is broadcast after every bump.
    private let blockingMutex: UnsafeMutablePointer<pthread_mutex_t>
    private let blockingCondition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        blockingMutex = .allocate(capacity: 1)
        blockingCondition = .allocate(capacity: 1)
        pthread_mutex_init(blockingMutex, nil)
        pthread_cond_init(blockingCondition, nil)
    }

    deinit {
        pthread_cond_destroy(blockingCondition)
        pthread_mutex_destroy(blockingMutex)
        blockingCondition.deallocate()
        blockingMutex.deallocate()
    }

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Blocks the calling thread until the generation differs from `seen` or `timeoutMillis` passed.
    func blockingWait(past seen: UInt64, timeoutMillis: Int64) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanos = Int64(deadline.tv_nsec) + (timeoutMillis % 1000) * 1_000_000
        deadline.tv_sec += Int(timeoutMillis / 1000 + nanos / 1_000_000_000)
        deadline.tv_nsec = Int(nanos % 1_000_000_000)
        // Counted before the generation is checked: a signal either sees the count (and
        // broadcasts under the mutex) or bumped the generation before the check.
        state.withLock { $0.blockingWaiters += 1 }
        pthread_mutex_lock(blockingMutex)
        while generation == seen {
            if pthread_cond_timedwait(blockingCondition, blockingMutex, &deadline) == ETIMEDOUT { break }
        }
        pthread_mutex_unlock(blockingMutex)
        state.withLock { $0.blockingWaiters -= 1 }
    }

    /// Called after a commit with change records became visible.
    func signal() {
        let (waiters, blocking) = state.withLock { s -> ([CheckedContinuation<Void, Never>], Bool) in
            s.generation &+= 1
            guard !s.waiters.isEmpty else { return ([], s.blockingWaiters > 0) }
            defer { s.waiters.removeAll(keepingCapacity: true) }
            return (Array(s.waiters.values), s.blockingWaiters > 0)
        }
        for w in waiters { w.resume() }
        guard blocking else { return }
        pthread_mutex_lock(blockingMutex)
        pthread_cond_broadcast(blockingCondition)
        pthread_mutex_unlock(blockingMutex)
    }

    /// Returns once the generation differs from `seen`, the task is cancelled, or `timeout`
    /// (if any) has passed.
    func wait(past seen: UInt64, timeout: Duration? = nil) async {
        let id = state.withLock { s -> UInt64 in
            s.nextId &+= 1
            return s.nextId
        }
        let timer = timeout.map { t in
            Task { [weak self] in
                // A cancelled timer (the wait ended first) must not release anything.
                guard (try? await Task.sleep(for: t)) != nil else { return }
                self?.release(id)
            }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.generation != seen || s.released.remove(id) != nil { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            release(id)
        }
        timer?.cancel()
        state.withLock { _ = $0.released.remove(id) }
    }

    private func release(_ id: UInt64) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let c = s.waiters.removeValue(forKey: id) { return c }
            s.released.insert(id)
            return nil
        }
        c?.resume()
    }
}
