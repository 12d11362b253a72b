import Glibc
import Synchronization
import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Overwrites one byte of the file at `path` with its complement.
private func flipByte(_ path: String, at offset: Int) throws {
    let fd = open(path, O_RDWR)
    #expect(fd >= 0)
    defer { close(fd) }
    var b: UInt8 = 0
    #expect(pread(fd, &b, 1, off_t(offset)) == 1)
    b = ~b
    #expect(pwrite(fd, &b, 1, off_t(offset)) == 1)
}

struct BackupRepositoryTests {
    @Test func backupUnderConcurrentWritesRestoresToTheSourceAtItsSequence() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        let repo = BackupRepository(path: dir.path + "/repo")
        let progress = Mutex(0)
        let taken = Mutex<(BackupInfo, Snapshot)?>(nil)
        try runConcurrently(3) { i in
            if i < 2 {
                for n in 0..<3000 {
                    try db.put(bytes("w\(i)-\(n % 1000)"), bytes("v\(n)-" + String(repeating: "y", count: 50)))
                    if n % 7 == 0 { try db.delete(bytes("w\(i)-\((n + 500) % 1000)")) }
                    progress.withLock { $0 += 1 }
                }
            } else {
                while progress.withLock({ $0 }) < 2000 { sched_yield() }
                let result = try repo.createPinningSnapshot(from: db)
                taken.withLock { $0 = result }
            }
        }
        let (info, snapshot) = try #require(taken.withLock { $0 })
        #expect(info.sequence == snapshot.sequence)
        #expect(try repo.list().map(\.id) == [info.id])
        #expect(try repo.verify(info.id).isIntact)

        try repo.restore(info.id, to: dir.path + "/restored")
        let restored = try DB.open(at: dir.path + "/restored", options: smallOptions())
        #expect(restored.latestSequence == info.sequence)
        let expected = try allEntries(db.makeIterator(options: ReadOptions(snapshot: snapshot)))
        #expect(!expected.isEmpty)
        #expect(entriesEqual(expected, try allEntries(restored.makeIterator())))
        snapshot.release()
        try restored.close()
        try db.close()
    }

    @Test func restoredBackupEqualsTheSourceAtTheBackupSequence() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        let repo = BackupRepository(path: dir.path + "/repo")
        for n in 0..<3000 { try db.put(bytes("k\(n % 700)"), bytes("v\(n)")) }
        // The state a backup must reproduce: a snapshot taken with nothing written in between.
        let snapshot = db.snapshot()
        let info = try repo.create(from: db)
        #expect(info.sequence == snapshot.sequence)
        for n in 0..<500 { try db.put(bytes("k\(n)"), bytes("after")) }
        try repo.restore(info.id, to: dir.path + "/restored")
        let restored = try DB.open(at: dir.path + "/restored", options: smallOptions())
        let expected = try allEntries(db.makeIterator(options: ReadOptions(snapshot: snapshot)))
        #expect(entriesEqual(expected, try allEntries(restored.makeIterator())))
        try restored.close()
        try db.close()
    }

    @Test func secondBackupCopiesOnlyNewTables() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        for n in 0..<2000 { try db.put(bytes("a\(n)"), bytes("v\(n)")) }
        try db.flush()
        let first = try repo.create(from: db)
        let tablesBefore = db.levelFileCounts.reduce(0, +)
        #expect(first.copiedFiles == tablesBefore)
        #expect(first.reusedFiles == 0)
        for n in 0..<2000 { try db.put(bytes("b\(n)"), bytes("v\(n)")) }
        try db.flush()
        let second = try repo.create(from: db)
        let tablesAfter = db.levelFileCounts.reduce(0, +)
        #expect(second.reusedFiles == tablesBefore)
        #expect(second.copiedFiles == tablesAfter - tablesBefore)
        #expect(try PosixFileSystem().listDirectory(repo.filesPath).count == tablesAfter)
        #expect(try repo.list().map(\.id) == [first.id, second.id])
        try db.close()
    }

    @Test func flippedByteIsNamedByVerifyAndRestoreRefuses() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        for n in 0..<2000 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        let info = try repo.create(from: db)
        try db.close()
        let table = try #require(try repo.manifest(info.id).files.first { $0.name.hasSuffix(".sst") })
        try flipByte(repo.path + "/" + table.object, at: 100)

        let report = try repo.verify(info.id)
        #expect(report.damage.count == 1)
        #expect(report.damage.first?.name == table.name)
        #expect(report.damage.first?.problem.kind == "checksumMismatch")
        do {
            try repo.restore(info.id, to: dir.path + "/restored")
            Issue.record("a damaged backup was restored")
        } catch let e as StorageError {
            #expect(e.code == .corruption)
            #expect(e.message.contains(table.name))
        }
        #expect(!PosixFileSystem().fileExists(dir.path + "/restored/CURRENT"))
    }

    @Test func damagedBackupRestoredInOnePassLeavesNothingBehind() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        for n in 0..<3000 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        let info = try repo.create(from: db)
        try db.close()
        // The last table in the manifest: files before it are copied before the damage is seen.
        let table = try #require(try repo.manifest(info.id).files.last { $0.name.hasSuffix(".sst") })
        try flipByte(repo.path + "/" + table.object, at: 50)
        #expect(throws: StorageError.self) { try repo.restore(info.id, to: dir.path + "/restored") }
        let left = try PosixFileSystem().listDirectory(dir.path + "/restored").filter { $0 != "LOCK" }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func damagedBackupNeverReplacesAnExistingDatabase() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let repo = BackupRepository(path: dir.path + "/repo")
        var db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        for n in 0..<500 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        let info = try repo.create(from: db)
        try db.close()
        db = try DB.open(at: dir.path + "/existing", options: smallOptions(background: false))
        try db.put(bytes("mine"), bytes("kept"))
        try db.close()
        let table = try #require(try repo.manifest(info.id).files.first { $0.name.hasSuffix(".sst") })
        try flipByte(repo.path + "/" + table.object, at: 50)
        #expect(throws: StorageError.self) { try repo.restore(info.id, to: dir.path + "/existing", overwrite: true) }
        db = try DB.open(at: dir.path + "/existing", options: smallOptions(background: false))
        #expect(try db.get(bytes("mine")) == bytes("kept"))
        try db.close()
    }

    @Test func tableChecksumsAreRememberedByInodeAndForgottenWhenTheFileChanges() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let path = dir.path + "/000007.sst"
        let first = fs.createFileForTest(path, [1, 2, 3, 4])
        let a = try TableChecksumCache.checksum(path, fileSystem: fs)
        #expect(a.size == 4 && a.crc == CRC32C.checksum(first) && a.wasRead)
        let again = try TableChecksumCache.checksum(path, fileSystem: fs)
        #expect(again.size == a.size && again.crc == a.crc && !again.wasRead)
        // Same size, new contents: a new inode (written elsewhere, renamed over it).
        let second = fs.createFileForTest(path + ".new", [9, 9, 9, 9])
        try fs.rename(path + ".new", to: path)
        let b = try TableChecksumCache.checksum(path, fileSystem: fs)
        #expect(b.size == 4 && b.crc == CRC32C.checksum(second) && b.wasRead)
    }

    @Test func missingFileIsNamedByVerifyAndRestoreRefuses() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        try db.put(bytes("k"), bytes("v"))
        let info = try repo.create(from: db)
        try db.close()
        let log = try #require(try repo.manifest(info.id).files.first { $0.name.hasSuffix(".log") })
        try PosixFileSystem().removeFile(repo.path + "/" + log.object)
        let report = try repo.verify(info.id)
        #expect(report.damage == [.init(name: log.name, path: repo.path + "/" + log.object, problem: .missing)])
        #expect(throws: StorageError.self) { try repo.restore(info.id, to: dir.path + "/restored") }
    }

    @Test func restoreRefusesANonEmptyDirectoryUnlessTold() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        try db.put(bytes("k"), bytes("v"))
        let info = try repo.create(from: db)
        try fs.createDirectory(dir.path + "/target")
        let f = try fs.createWritable(dir.path + "/target/stray")
        try f.close()
        do {
            try repo.restore(info.id, to: dir.path + "/target")
            Issue.record("restore into a non-empty directory was accepted")
        } catch let e as StorageError {
            #expect(e.code == .invalidArgument)
        }
        try repo.restore(info.id, to: dir.path + "/target", overwrite: true)
        #expect(!fs.fileExists(dir.path + "/target/stray"))
        // A directory a database holds open is refused even with overwrite.
        do {
            try repo.restore(info.id, to: dir.path + "/db", overwrite: true)
            Issue.record("restore over an open database was accepted")
        } catch let e as StorageError {
            #expect(e.code == .busy)
        }
        try db.close()
        let restored = try DB.open(at: dir.path + "/target")
        #expect(try restored.get(bytes("k")) == bytes("v"))
        try restored.close()
    }

    @Test func partialBackupIsInvisibleAndPruned() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        for n in 0..<1000 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        let kept = try repo.create(from: db)
        // A crash after copying a table and some files, before publishing the manifest.
        try fs.createDirectory(repo.backupPath("000002"))
        let stray = try fs.createWritable(repo.backupPath("000002") + "/CURRENT")
        try stray.close()
        let orphan = try fs.createWritable(repo.filesPath + "/000999-10-00000000")
        try orphan.close()
        try fs.createDirectory(repo.tempPath + "/000002/checkpoint.tmp")
        #expect(try repo.list().map(\.id) == [kept.id])

        let report = try repo.prune(keepLast: 5)
        #expect(report.removedBackups.isEmpty)
        #expect(report.removedFiles == 1)
        #expect(report.removedPartials == 2)
        #expect(!fs.fileExists(repo.backupPath("000002")))
        #expect(try fs.listDirectory(repo.tempPath).isEmpty)
        #expect(try repo.verify(kept.id).isIntact)
        // With the partial directory gone, ids continue after the highest one left.
        let next = try repo.create(from: db)
        #expect(next.id == "000002")
        try db.close()
    }

    @Test func pruneKeepsTheNewestAndDropsTheirUnsharedTables() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        var ids: [String] = []
        for round in 0..<3 {
            for n in 0..<1000 { try db.put(bytes("k\(n)"), bytes("v\(round)-\(n)")) }
            try db.compactRange()
            ids.append(try repo.create(from: db).id)
        }
        let report = try repo.prune(keepLast: 1)
        #expect(report.removedBackups == Array(ids.prefix(2)))
        #expect(report.removedFiles > 0)
        #expect(try repo.list().map(\.id) == [ids[2]])
        #expect(try repo.verify(ids[2]).isIntact)
        try repo.restore(ids[2], to: dir.path + "/restored")
        let restored = try DB.open(at: dir.path + "/restored")
        #expect(try restored.get(bytes("k999")) == bytes("v2-999"))
        try restored.close()
        try db.close()
    }
}

extension PosixFileSystem {
    /// Writes `contents` to a new file at `path` and returns them.
    fileprivate func createFileForTest(_ path: String, _ contents: [UInt8]) -> [UInt8] {
        do {
            let f = try createWritable(path)
            try f.append(contents)
            try f.sync()
            try f.close()
        } catch {
            Issue.record("could not write \(path): \(error)")
        }
        return contents
    }
}
