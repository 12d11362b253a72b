import Glibc
import Synchronization

/// Runs `body(i)` for i in 0..<count on that many OS threads; rethrows the first error.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    final class Box {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
    let first = FirstError()
    var threads: [pthread_t] = []
    for i in 0..<count {
        let box = Unmanaged.passRetained(Box { do { try body(i) } catch { first.set(error) } }).toOpaque()
        var t = pthread_t()
        precondition(pthread_create(&t, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box) == 0)
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
    if let e = first.get() { throw e }
}

final class FirstError: Sendable {
    private let value = Mutex<(any Error)?>(nil)
    func set(_ e: any Error) { value.withLock { if $0 == nil { $0 = e } } }
    func get() -> (any Error)? { value.withLock { $0 } }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
