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
        let checker = DocumentCrashStateChecker(seed: seed)
        let cycleRunner = KillCycles(writer: "doc-crash-writer", seed: seed, cycles: cycles, maxAcks: 120)
        let acks = try cycleRunner.run { dir, allowed in
            let db = try Database.open(at: dir, options: DocumentCrashWorkload.options())
            defer { try? db.close() }
            return try checker.check(db, allowed: allowed)
        }
        guard let totalAcks = acks else { return }
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
