import FoundationEssentials
import Glibc
import Testing

@testable import OsmanthusStorage

/// SIGKILL `osmanthus backup create` at spread-out moments: the repository stays consistent —
/// every listed backup verifies and restores, partial ones are invisible to `list` and removed
/// by `prune`, and the next backup works.
struct BackupKillTests {
    /// 64 KiB of random bytes; values are 1000-byte windows of it (incompressible, cheap).
    static let noise: [UInt8] = {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<(64 << 10)).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: x >> 33)
        }
    }()

    /// No compaction and no compression: every flushed table stays as written, so each round
    /// only adds tables (work for the backup, none for the test).
    static var options: Options {
        var o = Options()
        o.memtableSize = 4 << 20
        o.compressionPerLevel = [.none]
        o.level0CompactionTrigger = 1000
        o.level0SlowdownTrigger = 1000
        o.level0StopTrigger = 1000
        return o
    }

    /// Adds `tables` flushed tables of ~1 MB each under fresh keys.
    func grow(_ dir: String, round: Int, tables: Int) throws {
        let db = try DB.open(at: dir, options: Self.options)
        let noise = Self.noise
        for t in 0..<tables {
            var batch = WriteBatch()
            for k in 0..<1000 {
                let start = (k &* 7919 &+ t &* 104_729 &+ round &* 31) % (noise.count - 1000)
                batch.put(Array("r\(round)-t\(t)-k\(k)".utf8), Array(noise[start..<start + 1000]))
            }
            try db.write(batch)
            try db.flush()
        }
        try db.close()
    }

    @Test func killedBackupsLeaveTheRepositoryConsistent() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let binary = try CrashTests.writerBinary()
        let data = scratch.path + "/data"
        let repoPath = scratch.path + "/repo"
        let repo = BackupRepository(path: repoPath)
        // Kill delays from "before the backup starts" to "after it may have finished"; nil: as
        // soon as the backup's directory appears (a linked backup of tables whose checksums were
        // recorded takes milliseconds, which fixed delays alone can miss). Its directory, not its
        // work directory: a work directory alone is debris the next backup takes the same id
        // for and clears, leaving prune nothing to find.
        let delays: [UInt32?] = [5, 40, nil, 120, nil, 260]
        var partialsSeen = 0
        var rounds: [String] = []  // what each kill left, for the failure messages
        for (round, delay) in delays.enumerated() {
            try grow(data, round: round, tables: 8)
            let fs = PosixFileSystem()
            let backupsBefore = Set(fs.fileExists(repoPath + "/backups") ? try fs.listDirectory(repoPath + "/backups") : [])
            let child = try ChildProcess(
                executable: binary, arguments: ["backup", "create", "--repo", repoPath, "--data-dir", data],
                stderrPath: scratch.path + "/child.err")
            if let delay {
                usleep(delay * 1000)  // picks the kill point; nothing waits on it
            } else {
                let deadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < deadline {
                    let backups = (try? fs.listDirectory(repoPath + "/backups")) ?? []
                    if backups.contains(where: { !backupsBefore.contains($0) }) { break }
                    usleep(100)
                }
            }
            child.kill()
            _ = try child.wait()
            let dirs = fs.fileExists(repoPath + "/backups") ? try fs.listDirectory(repoPath + "/backups") : []
            let published = Set(try repo.list().map(\.id))
            let temp = fs.fileExists(repoPath + "/tmp") ? try fs.listDirectory(repoPath + "/tmp") : []
            if dirs.contains(where: { !published.contains($0) }) || !temp.isEmpty { partialsSeen += 1 }
            rounds.append("round \(round): backups \(dirs.sorted()), published \(published.sorted()), tmp \(temp.sorted())")
            // Whatever the kill interrupted, every published backup is whole.
            for id in published {
                let report = try repo.verify(id)
                #expect(report.isIntact, "round \(round): backup \(id) damaged: \(report.damage)")
            }
        }
        #expect(partialsSeen > 0, "no kill landed inside a backup; the delays need retuning")

        // The database still opens, and a new backup works next to the debris.
        let db = try DB.open(at: data, options: Self.options)
        let info = try repo.create(from: db)
        let expected = try snapshotContents(db)
        try db.close()
        #expect(try repo.list().last?.id == info.id)

        // Prune removes every partial and unreferenced file; the kept backups stay whole.
        let report = try repo.prune(keepLast: 2)
        #expect(report.removedPartials >= 1, "\(rounds)")
        let fs = PosixFileSystem()
        let kept = try repo.list().map(\.id)
        #expect(Set(try fs.listDirectory(repoPath + "/backups")) == Set(kept))
        #expect(try fs.listDirectory(repoPath + "/tmp").isEmpty)
        var referenced = Set<String>()
        for id in kept {
            #expect(try repo.verify(id).isIntact)
            referenced.formUnion(try repo.manifest(id).files.map(\.object).filter { $0.hasPrefix("files/") })
        }
        #expect(Set(try fs.listDirectory(repoPath + "/files").map { "files/" + $0 }) == referenced)

        // The newest restores to exactly what the source held.
        try repo.restore(info.id, to: scratch.path + "/restored")
        let restored = try DB.open(at: scratch.path + "/restored")
        defer { try? restored.close() }
        #expect(try snapshotContents(restored) == expected)
    }

    func snapshotContents(_ db: DB) throws -> [[UInt8]: [UInt8]] {
        var all: [[UInt8]: [UInt8]] = [:]
        let it = db.makeIterator()
        it.seekToFirst()
        while it.isValid {
            all[Array(it.key)] = Array(it.value)
            it.next()
        }
        if let e = it.error { throw e }
        return all
    }
}
