import Testing

@testable import OsmanthusStorage

/// The pacer's sleeps, on a clock the test drives: bytes are held back exactly until they are
/// due at the rate, never before, and a slow copy is not made to sleep at all.
@Suite struct CopyPacerTests {
    final class FakeClock {
        var time = 100.0
        var sleeps: [Double] = []
    }

    func pacer(_ rate: UInt64, _ clock: FakeClock) -> CopyPacer? {
        CopyPacer(bytesPerSecond: rate, now: { clock.time }, sleep: { clock.sleeps.append($0); clock.time += $0 })
    }

    @Test func noRateMeansNoPacer() {
        #expect(CopyPacer(bytesPerSecond: nil) == nil)
        #expect(CopyPacer(bytesPerSecond: 0) == nil)
    }

    @Test func chunksFasterThanTheRateSleepUntilTheyAreDue() throws {
        let clock = FakeClock()
        let p = try #require(pacer(1000, clock))
        p.moved(500)  // at t=100: 500 bytes due at 100.5
        p.moved(500)  // at 100.5: 1000 bytes due at 101
        #expect(clock.sleeps.count == 2)
        #expect(abs(clock.sleeps[0] - 0.5) < 1e-9 && abs(clock.sleeps[1] - 0.5) < 1e-9)
        #expect(abs(clock.time - 101) < 1e-9)
    }

    @Test func aCopySlowerThanTheRateNeverSleeps() throws {
        let clock = FakeClock()
        let p = try #require(pacer(1000, clock))
        p.moved(100)
        #expect(abs((clock.sleeps.first ?? 0) - 0.1) < 1e-9)
        clock.time += 5  // the disk was slow: 5 s for the next 100 bytes
        p.moved(100)
        p.moved(100)
        #expect(clock.sleeps.count == 1)
    }

    @Test func aBackupRespectsItsRepositoryRate() throws {
        // A paced backup through the real repository: the bytes it moved took at least as long
        // as the rate allows (the pacer only ever sleeps, so this floor cannot race).
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        for i in 0..<3000 { try db.put(Array("k\(i)".utf8), [UInt8](repeating: UInt8(i % 251), count: 200)) }
        let rate: UInt64 = 4 << 20
        // Copied, not linked: a hard link moves no bytes, so only copies are paced.
        let repo = BackupRepository(path: dir.path + "/repo", rateLimit: rate, linkFiles: false)
        let start = CopyPacer.monotonicSeconds()
        let info = try repo.create(from: db)
        let elapsed = CopyPacer.monotonicSeconds() - start
        try db.close()
        #expect(info.totalBytes > 50_000)
        #expect(elapsed >= Double(info.totalBytes) / Double(rate) * 0.99)
        #expect(try repo.verify(info.id).damage.isEmpty)
    }
}
