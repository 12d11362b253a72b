import Glibc
import Synchronization

/// Runs `body(0..<count)` on `count` OS threads at once and rethrows the first error.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    final class FirstError: Sendable {
        let value = Mutex<(any Error)?>(nil)
    }
    final class Box {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
    let first = FirstError()
    var threads: [pthread_t] = []
    for i in 0..<count {
        let box = Unmanaged.passRetained(
            Box {
                do { try body(i) } catch { first.value.withLock { if $0 == nil { $0 = error } } }
            }
        ).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(
            &t, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            }, box)
        precondition(rc == 0)
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
    if let e = first.value.withLock({ $0 }) { throw e }
}
