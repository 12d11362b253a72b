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
        var nextId: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits cancelled (or timed out) before their continuation was registered.
        var released: Set<UInt64> = []
    }

    // Guards the suspended waiters.
    private let state = Mutex(State())
    /// Bumped by every `signal`.
    private let counter = Atomic<UInt64>(0)
    /// Waits under way (async ones about to park or parked, and blocking ones). `signal` takes
    /// a lock only when this is not 0, so a commit nobody waits for pays two atomics. Both
    /// atomics are sequentially consistent: a waiter adds itself before it reads the generation,
    /// `signal` bumps the generation before it reads this, so one of them sees the other.
    private let interested = Atomic<Int>(0)

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

    var generation: UInt64 { counter.load(ordering: .sequentiallyConsistent) }

    /// Blocks the calling thread until the generation differs from `seen` or `timeoutMillis` passed.
    func blockingWait(past seen: UInt64, timeoutMillis: Int64) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanos = Int64(deadline.tv_nsec) + (timeoutMillis % 1000) * 1_000_000
        deadline.tv_sec += Int(timeoutMillis / 1000 + nanos / 1_000_000_000)
        deadline.tv_nsec = Int(nanos % 1_000_000_000)
        // Counted before the generation is checked: a signal either sees the count (and
        // broadcasts under the mutex) or bumped the generation before the check.
        interested.wrappingAdd(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(blockingMutex)
        while generation == seen {
            if pthread_cond_timedwait(blockingCondition, blockingMutex, &deadline) == ETIMEDOUT { break }
        }
        pthread_mutex_unlock(blockingMutex)
        interested.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    /// Called after a commit with change records became visible.
    func signal() {
        counter.wrappingAdd(1, ordering: .sequentiallyConsistent)
        guard interested.load(ordering: .sequentiallyConsistent) != 0 else { return }
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.waiters.isEmpty else { return [] }
            defer { s.waiters.removeAll(keepingCapacity: true) }
            return Array(s.waiters.values)
        }
        if !waiters.isEmpty { interested.wrappingSubtract(waiters.count, ordering: .sequentiallyConsistent) }
        for w in waiters { w.resume() }
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
                // Counted before the generation is read (see `interested`); whoever takes the
                // continuation out of `waiters` (signal, release) uncounts it.
                interested.wrappingAdd(1, ordering: .sequentiallyConsistent)
                let now = state.withLock { s -> Bool in
                    if generation != seen || s.released.remove(id) != nil { return true }
                    s.waiters[id] = c
                    return false
                }
                if now {
                    interested.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    c.resume()
                }
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
        if let c {
            interested.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            c.resume()
        }
    }
}
