import Glibc

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
