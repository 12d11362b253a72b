import Synchronization

/// Wakes change-stream consumers after commits that wrote change records. A consumer reads the
/// generation, reads the log, and if it found nothing waits for the generation to move past
/// the one it read — so a commit between its read and its wait is never missed.
final class ChangeNotifier: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextId: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits cancelled (or timed out) before their continuation was registered.
        var released: Set<UInt64> = []
    }

    // Guards the generation and the suspended waiters.
    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Called after a commit with change records became visible.
    func signal() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation &+= 1
            guard !s.waiters.isEmpty else { return [] }
            defer { s.waiters.removeAll(keepingCapacity: true) }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
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
