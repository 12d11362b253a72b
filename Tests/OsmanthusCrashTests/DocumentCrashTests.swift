import Glibc
import Osmanthus
import Testing

@testable import osmanthus

/// Real crashes of the document layer: `osmanthus debug doc-crash-writer` inserts and updates
/// documents with synced writes and acknowledges each; it is killed with SIGKILL at random
/// moments, and the reopened `Database` must hold every acknowledged write, at most the one in
/// flight after them, and nothing else.
///
/// `OSMANTHUS_DOC_CRASH_CYCLES` sets the number of kills (default 20), `OSMANTHUS_SEED`
/// replays a failing run.
@Suite(.serialized)
struct DocumentCrashTests {
    @Test func acknowledgedInsertsAndUpdatesSurviveSIGKILL() throws {
        let cycles = Int(CrashTests.environment("OSMANTHUS_DOC_CRASH_CYCLES") ?? "") ?? 20
        let seed = UInt64(CrashTests.environment("OSMANTHUS_SEED") ?? "") ?? UInt64.random(in: 1...UInt64.max)
        let binary = try CrashTests.writerBinary()
        var rng = SplitMix64(seed: seed)
        let checker = DocumentCrashStateChecker(seed: seed)
        let scratch = try ScratchDirectory()
        var next = 0
        var totalAcks = 0
        for cycle in 0..<cycles {
            // An eighth of the kills land during open and recovery; the rest after 1–120 acks.
            let killAfter = Int.random(in: 0..<8, using: &rng) == 0 ? 0 : Int.random(in: 1...120, using: &rng)
            let context = "seed \(seed) cycle \(cycle) start \(next) kill after \(killAfter) acks, dir \(scratch.path)"
            let run = try KilledWriter.run(
                binary: binary,
                arguments: ["debug", "doc-crash-writer", "--dir", scratch.path + "/db", "--start", "\(next)",
                            "--seed", "\(seed)"],
                stderrPath: scratch.path + "/writer-stderr.txt", start: next, killAfter: killAfter, context: context)
            guard run.wasKilled else {
                Issue.record("the writer \(run.status) before it was killed (\(context)):\n\(run.stderr)")
                return
            }
            let acked = run.lastAck
            totalAcks += acked.map { $0 - next + 1 } ?? 0

            let floor = acked ?? next - 1
            let db = try Database.open(at: scratch.path + "/db", options: DocumentCrashWorkload.options())
            do {
                next = try checker.check(db, allowed: floor...(floor + 1)) + 1
            } catch {
                try? db.close()
                Issue.record("\(error)\n(\(context); the directory is kept)")
                return
            }
            try db.close()
        }
        scratch.remove()
        #expect(totalAcks >= cycles * 5, "seed \(seed): only \(totalAcks) acknowledged writes")
    }

    @Test func documentWriterThatIsNotKilledLeavesEveryOp() throws {
        let binary = try CrashTests.writerBinary()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let child = try ChildProcess(
            executable: binary,
            arguments: ["debug", "doc-crash-writer", "--dir", scratch.path + "/db", "--seed", "7", "--count", "40"],
            stderrPath: scratch.path + "/writer-stderr.txt")
        var lines: [String] = []
        while let line = try child.readLine() { lines.append(line) }
        #expect(try child.wait() == .exited(0), "\(child.stderrText)")
        #expect(lines == (0..<40).map { "ack \($0)" })
        let db = try Database.open(at: scratch.path + "/db", options: DocumentCrashWorkload.options())
        defer { try? db.close() }
        #expect(try DocumentCrashStateChecker(seed: 7).check(db, allowed: 39...39) == 39)
        #expect(try db.collection("docs", in: "crash").count() == 30)

        // The checker notices a lost update and a lost insert.
        let docs = db.collection("docs", in: "crash")
        try docs.updateOne(["_id": .int64(Int64(DocumentCrashWorkload.target(39, seed: 7)))], ["$inc": ["updates": -1]])
        #expect(throws: ChildProcess.Failure.self) { try DocumentCrashStateChecker(seed: 7).check(db, allowed: 39...39) }
        try docs.updateOne(["_id": .int64(Int64(DocumentCrashWorkload.target(39, seed: 7)))], ["$inc": ["updates": 1]])
        #expect(try DocumentCrashStateChecker(seed: 7).check(db, allowed: 39...39) == 39)
        try docs.deleteOne(["_id": .int64(0)])
        #expect(throws: ChildProcess.Failure.self) { try DocumentCrashStateChecker(seed: 7).check(db, allowed: 39...39) }
    }
}
