import Glibc
import Testing

/// One crash-test cycle's writer: started at op `start`, killed with SIGKILL after reading its
/// `killAfter`-th acknowledgement (0: right after the spawn). Both crash tests share this.
struct KilledWriter {
    /// The last op the writer acknowledged; acks it printed before dying count, read or not.
    var lastAck: Int?
    /// `.signaled(SIGKILL)`, unless the writer ended by itself first.
    var status: ChildProcess.Status
    var stderr: String

    var wasKilled: Bool { status == .signaled(SIGKILL) }

    /// Acks must be `ack start`, `ack start+1`, … with no gap: anything else is a failure.
    static func run(
        binary: String, arguments: [String], stderrPath: String, start: Int, killAfter: Int, context: String
    ) throws -> KilledWriter {
        let child = try ChildProcess(executable: binary, arguments: arguments, stderrPath: stderrPath)
        var acked: Int?
        func take(_ line: String) throws {
            let expected = (acked ?? start - 1) + 1
            guard line == "ack \(expected)" else {
                throw ChildProcess.Failure(description: "expected \"ack \(expected)\", read \"\(line)\" (\(context))")
            }
            acked = expected
        }
        var reads = 0
        while reads < killAfter, let line = try child.readLine() {
            try take(line)
            reads += 1
        }
        child.kill()
        while let line = try child.readLine() { try take(line) }
        let status = try child.wait()
        return KilledWriter(lastAck: acked, status: status, stderr: child.stderrText)
    }
}

/// The crash test's loop, shared by the storage and document writers: start the writer at the next
/// op, kill it after a random number of acks, reopen and check, continue from what is there.
struct KillCycles {
    /// `osmanthus debug <writer>`.
    let writer: String
    let seed: UInt64
    let cycles: Int
    /// Kills land after 1…maxAcks acks (an eighth of them right after the spawn).
    let maxAcks: Int
    /// A long soak starts a fresh directory this often, so each cycle's full check stays cheap.
    var cyclesPerDirectory = Int.max

    /// `check(dir, allowed)` reopens the database in `dir` and returns its last op, which must be
    /// in `allowed`. Returns the number of acknowledged ops, or nil after recording an issue.
    func run(check: (String, ClosedRange<Int>) throws -> Int) throws -> Int? {
        let binary = try CrashTests.writerBinary()
        var rng = SplitMix64(seed: seed)
        var scratch = try ScratchDirectory()
        var next = 0
        var totalAcks = 0
        for cycle in 0..<cycles {
            if cycle > 0 && cycle % cyclesPerDirectory == 0 {
                scratch.remove()
                scratch = try ScratchDirectory()
                next = 0
            }
            let killAfter = Int.random(in: 0..<8, using: &rng) == 0 ? 0 : Int.random(in: 1...maxAcks, using: &rng)
            let context = "seed \(seed) cycle \(cycle) start \(next) kill after \(killAfter) acks, dir \(scratch.path)"
            let run = try KilledWriter.run(
                binary: binary,
                arguments: ["debug", writer, "--dir", scratch.path + "/db", "--start", "\(next)", "--seed", "\(seed)"],
                stderrPath: scratch.path + "/writer-stderr.txt", start: next, killAfter: killAfter, context: context)
            guard run.wasKilled else {
                Issue.record("the writer \(run.status) before it was killed (\(context)):\n\(run.stderr)")
                return nil
            }
            totalAcks += run.lastAck.map { $0 - next + 1 } ?? 0
            // Every acknowledged op is there; the one after it may be (it was in flight).
            let floor = run.lastAck ?? next - 1
            do {
                next = try check(scratch.path + "/db", floor...(floor + 1)) + 1
            } catch {
                Issue.record("\(error)\n(\(context); the directory is kept)")
                return nil
            }
        }
        scratch.remove()
        return totalAcks
    }
}
