import Glibc
import Osmanthus
import Testing

@testable import osmanthus

/// Change streams across real crashes: `doc-crash-writer` (synced writes, one ack per op) is
/// killed with SIGKILL at random moments; after each kill the database is checked
/// (`DocumentCrashStateChecker`: it holds exactly ops 0…h, h ≥ the last ack), then
/// `debug change-consumer`, another child, resumes from its saved token and must print exactly
/// the ops after the ones it saw before, through h, in order: every acknowledged write once,
/// nothing that was not committed.
///
/// `OSMANTHUS_CHANGE_CRASH_CYCLES` sets the number of kills (default 12), `OSMANTHUS_SEED`
/// replays a failing run.
@Suite(.serialized)
struct ChangeStreamCrashTests {
    @Test func consumerResumingFromItsTokenSeesEveryCommittedOpOnceInOrder() throws {
        let cycles = Int(CrashTests.environment("OSMANTHUS_CHANGE_CRASH_CYCLES") ?? "") ?? 12
        let seed = UInt64(CrashTests.environment("OSMANTHUS_SEED") ?? "") ?? UInt64.random(in: 1...UInt64.max)
        let binary = try CrashTests.writerBinary()
        let checker = DocumentCrashStateChecker(seed: seed)
        var consumed = -1  // the last op the consumer has printed, over all its runs
        var consumerRuns = 0
        let runner = KillCycles(writer: "doc-crash-writer", seed: seed, cycles: cycles, maxAcks: 60)
        let acks = try runner.run { dir, allowed in
            let h: Int
            do {
                let db = try Database.open(at: dir, options: DocumentCrashWorkload.options())
                defer { try? db.close() }
                h = try checker.check(db, allowed: allowed)
            }
            let child = try ChildProcess(
                executable: binary, arguments: ["debug", "change-consumer", "--dir", dir, "--token-file", dir + ".token"],
                stderrPath: dir + ".consumer-stderr")
            var ops: [Int] = []
            while let line = try child.readLine() {
                guard line.hasPrefix("op "), let n = Int(line.dropFirst(3)) else {
                    throw ChildProcess.Failure(description: "consumer printed \"\(line)\" (seed \(seed))")
                }
                ops.append(n)
            }
            guard try child.wait() == .exited(0) else {
                throw ChildProcess.Failure(description: "consumer failed: \(child.stderrText) (seed \(seed))")
            }
            let expected = Array((consumed + 1)..<(h + 1))
            guard ops == expected else {
                throw ChildProcess.Failure(
                    description: "consumer saw \(ops), expected ops \(consumed + 1)…\(h) once each, in order (seed \(seed))")
            }
            consumed = h
            consumerRuns += 1
            return h
        }
        guard let totalAcks = acks else { return }
        #expect(consumerRuns == cycles)
        #expect(totalAcks >= cycles * 3, "seed \(seed): only \(totalAcks) acknowledged writes")
    }
}
