// One engine's result on one workload in one repeat, and the timed loop that produces it.

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
    return Measurement(
        ops: done, seconds: (clock.now - start).seconds, completed: done == count, checksum: checksum,
        perOperation: perOperation)
}
