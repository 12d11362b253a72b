// One engine's result on one workload in one repeat, and the timed loop that produces it.
#if canImport(Glibc)
import Glibc
#endif

struct Measurement: Sendable {
    var ops: Int
    var seconds: Double
    /// False when the time limit stopped the workload early.
    var completed: Bool
    /// What the operations returned (found documents, rows counted): compared across engines
    /// and with the expected value where the benchmark knows it.
    var checksum: Int
    /// Each operation's share of the checksum, so a run the time limit cut short can still be
    /// compared with the other engine's over the operations both did.
    var perOperation: [Int] = []
    var problems: [String] = []
    /// CPU seconds of the timed loop's own thread, and of the process's other threads over the
    /// same time (Osmanthus: flush and compaction, competing with the loop for the cores).
    var threadCPU: Double = 0
    var otherCPU: Double = 0

    var opsPerSecond: Double { seconds > 0 ? Double(ops) / seconds : 0 }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

/// Runs `body(i)` for i in 0..<count until done or out of time; `body` returns its share of the
/// checksum.
func timedLoop(_ count: Int, maxSeconds: Double, _ body: (Int) throws -> Int) throws -> Measurement {
    let (thread0, process0) = (cpuSeconds(thread: true), cpuSeconds(thread: false))
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int64(maxSeconds * 1000))
    var checksum = 0
    var done = 0
    var perOperation: [Int] = []
    perOperation.reserveCapacity(count)
    while done < count {
        let result = try body(done)
        checksum &+= result
        perOperation.append(result)
        done += 1
        if done & 15 == 0, clock.now > deadline { break }
    }
    let seconds = (clock.now - start).seconds
    let thread = cpuSeconds(thread: true) - thread0
    return Measurement(
        ops: done, seconds: seconds, completed: done == count, checksum: checksum,
        perOperation: perOperation, threadCPU: thread, otherCPU: cpuSeconds(thread: false) - process0 - thread)
}

/// User + system CPU seconds of this thread (`RUSAGE_THREAD`, 1) or of the process (`RUSAGE_SELF`, 0).
func cpuSeconds(thread: Bool) -> Double {
    var usage = rusage()
    guard getrusage(__rusage_who_t(thread ? 1 : 0), &usage) == 0 else { return 0 }
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}
