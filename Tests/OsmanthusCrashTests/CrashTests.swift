import Glibc
import OsmanthusStorage
import Testing

@testable import osmanthus

/// Real crashes: `osmanthus debug crash-writer` writes synced batches and acknowledges each on
/// stdout; it is killed with SIGKILL at random moments, and the database it leaves must hold
/// every acknowledged batch, at most the one batch in flight after them, and no batch in part.
///
/// `OSMANTHUS_CRASH_CYCLES` sets the number of kills (default 25; `Tools/crash-soak` runs
/// thousands), `OSMANTHUS_SEED` replays a failing run.
@Suite(.serialized)
struct CrashTests {
    /// Kills per database directory; a long soak starts a fresh one now and then so that the
    /// full check of every cycle stays cheap.
    static let cyclesPerDirectory = 100

    @Test func acknowledgedBatchesSurviveSIGKILLAndNoneIsHalfApplied() throws {
        let cycles = Int(Self.environment("OSMANTHUS_CRASH_CYCLES") ?? "") ?? 25
        let seed = UInt64(Self.environment("OSMANTHUS_SEED") ?? "") ?? UInt64.random(in: 1...UInt64.max)
        let checker = CrashStateChecker(seed: seed)
        let cycleRunner = KillCycles(
            writer: "crash-writer", seed: seed, cycles: cycles, maxAcks: 200, cyclesPerDirectory: Self.cyclesPerDirectory)
        let acks = try cycleRunner.run { dir, allowed in
            let db = try DB.open(at: dir, options: CrashWorkload.options())
            defer { try? db.close() }
            return try checker.check(db, allowed: allowed)
        }
        guard let totalAcks = acks else { return }
        // The kills must have landed among real work, not only during start-up.
        #expect(totalAcks >= cycles * 10, "seed \(seed): only \(totalAcks) acknowledged batches")
    }

    @Test func writerThatIsNotKilledLeavesEveryBatch() throws {
        let binary = try Self.writerBinary()
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let child = try ChildProcess(
            executable: binary,
            arguments: ["debug", "crash-writer", "--dir", scratch.path + "/db", "--seed", "7", "--count", "60"],
            stderrPath: scratch.path + "/writer-stderr.txt")
        var lines: [String] = []
        while let line = try child.readLine() { lines.append(line) }
        #expect(try child.wait() == .exited(0), "\(child.stderrText)")
        #expect(lines == (0..<60).map { "ack \($0)" })
        let db = try DB.open(at: scratch.path + "/db", options: CrashWorkload.options())
        defer { try? db.close() }
        #expect(try CrashStateChecker(seed: 7).check(db, allowed: 59...59) == 59)
    }

    /// The `osmanthus` binary built next to this test bundle (`swift build --build-tests`).
    static func writerBinary() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw ChildProcess.Failure(description: "readlink /proc/self/exe failed") }
        let exe = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var directory = exe
        while let last = directory.last, last != "/" { directory.removeLast() }
        let binary = directory + "osmanthus"
        guard access(binary, X_OK) == 0 else {
            throw ChildProcess.Failure(
                description: "\(binary) is missing: build it with `swift build --build-tests` before `swift test`")
        }
        return binary
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// A seeded random number generator: a failing run is replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
