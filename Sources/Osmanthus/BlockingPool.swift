import Glibc

/// A small pool of OS threads for the async API: `run` hands blocking engine work (reads that
/// miss the cache, fsync'd writes, waits in group commit and on key locks) to one of them and
/// suspends the calling task until it finishes.
///
/// Why not the cooperative pool: it has one thread per core (two here), so two callers blocked
/// in fsync would stall every task of the process, and group commit needs many writers waiting
/// at once to batch their fsyncs. Why not a `DispatchQueue`: on Linux libdispatch sizes its
/// default pool by core count too, and an overcommitting queue has no bound; a fixed number of
/// our own threads is predictable. Threads start on demand, up to `maxThreads`, and idle ones
/// wait on a condition variable (a parked thread costs only its stack).
final class BlockingPool: @unchecked Sendable {
    // `mutex` guards `jobs`, `head`, `idle`, `threadCount` and `stopped`; `wakeup` is signalled
    // when a job is queued or the pool stops. Both are heap-allocated so they never move.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeup: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var idle = 0
    private var threadCount = 0
    private var stopped = false
    let maxThreads: Int

    init(maxThreads: Int = 16) {
        self.maxThreads = max(1, maxThreads)
        mutex = .allocate(capacity: 1)
        wakeup = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeup, nil)
    }

    deinit {
        // Workers hold a strong reference while they run, so none is left here.
        pthread_cond_destroy(wakeup)
        pthread_mutex_destroy(mutex)
        wakeup.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` on a pool thread; the calling task waits without holding its executor.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Queues `job`; after `shutdown` it runs on the caller (the engine then reports `.closed`).
    func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        if stopped {
            pthread_mutex_unlock(mutex)
            job()
            return
        }
        jobs.append(job)
        if idle > 0 { pthread_cond_signal(wakeup) }
        // More queued jobs than idle workers to take them: another thread, within the bound.
        if jobs.count - head > idle && threadCount < maxThreads {
            threadCount += 1
            startThread()
        }
        pthread_mutex_unlock(mutex)
    }

    /// Lets the workers finish the queued jobs and exit. Idempotent.
    func shutdown() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_broadcast(wakeup)
        pthread_mutex_unlock(mutex)
    }

    private func startThread() {
        final class Box {
            let pool: BlockingPool
            init(_ pool: BlockingPool) { self.pool = pool }
        }
        let box = Unmanaged.passRetained(Box(self)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().pool.work()
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            // No thread: undo; a queued job still runs on an existing worker or the next one.
            Unmanaged<Box>.fromOpaque(box).release()
            threadCount -= 1
            precondition(threadCount > 0 || idle > 0, "pthread_create failed with no worker left: \(rc)")
        }
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            if head < jobs.count {
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                }
                pthread_mutex_unlock(mutex)
                job()
                pthread_mutex_lock(mutex)
                continue
            }
            if stopped { break }
            idle += 1
            pthread_cond_wait(wakeup, mutex)
            idle -= 1
        }
        threadCount -= 1
        pthread_mutex_unlock(mutex)
    }
}
