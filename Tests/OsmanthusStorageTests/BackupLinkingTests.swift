import Glibc
import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func inode(_ path: String) -> UInt64? {
    var st = stat()
    return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
}

private func logNames(_ dir: String) throws -> [String] {
    try PosixFileSystem().listDirectory(dir).filter { $0.hasSuffix(".log") }.sorted()
}

/// A database (background work off) with a closed log waiting for its flush beside the active
/// one: the state in which a backup may link the closed log and must copy the active one.
private func databaseWithAClosedLog(_ path: String) throws -> DB {
    let db = try DB.open(at: path, options: smallOptions(background: false))
    try db.put(bytes("first"), bytes("table"))
    try db.flush()
    var n = 0
    // Background work off: the switched memtable waits, with its log, until the next switch.
    while try logNames(path).count < 2 {
        try db.put(bytes("k\(n)"), bytes("v\(n)-" + String(repeating: "x", count: 100)))
        n += 1
    }
    for i in 0..<20 { try db.put(bytes("tail\(i)"), bytes("t\(i)")) }
    return db
}

/// How backups store a database's immutable files (SPEC.md §14.2): linked when they can be,
/// copied otherwise, and only the active log's tail ever copied record by record.
struct BackupLinkingTests {
    @Test func closedLogsAndTablesAreLinkedAndOnlyTheActiveLogIsCopied() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try databaseWithAClosedLog(dir.path + "/db")
        let repo = BackupRepository(path: dir.path + "/repo")
        let logs = try logNames(dir.path + "/db")
        let tables = db.levelFileCounts.reduce(0, +)
        #expect(logs.count == 2 && tables >= 1)
        let snapshot = db.snapshot()
        let (info, work) = try repo.createReportingWork(from: db)
        #expect(info.sequence == snapshot.sequence)

        let manifest = try repo.manifest(info.id)
        for f in manifest.files where f.name.hasSuffix(".sst") || f.name == logs[0] {
            #expect(inode(repo.path + "/" + f.object) == inode(dir.path + "/db/" + f.name), "\(f.name) is not linked")
        }
        let active = try #require(manifest.files.first { $0.name == logs[1] })
        #expect(inode(repo.path + "/" + active.object) != inode(dir.path + "/db/" + logs[1]))
        #expect(work.filesLinked == tables + 1)
        #expect(work.filesCopied == 0)
        #expect(work.logBytesCopied > 0)
        #expect(work.logBytesCopied <= (try PosixFileSystem().fileSize(dir.path + "/db/" + logs[1])))
        // The backup is the source at its sequence, and its snapshot was not kept.
        #expect(db.snapshots.count == 1)
        #expect(try repo.verify(info.id).isIntact)
        try repo.restore(info.id, to: dir.path + "/restored")
        let restored = try DB.open(at: dir.path + "/restored", options: smallOptions(background: false))
        let expected = try allEntries(db.makeIterator(options: ReadOptions(snapshot: snapshot)))
        #expect(entriesEqual(expected, try allEntries(restored.makeIterator())))
        try restored.close()

        // Nothing new to read for a second backup: every checksum is remembered.
        let (_, again) = try repo.createReportingWork(from: db)
        #expect(again.bytesChecksummed == 0)
        #expect(again.filesLinked == 1)  // the closed log, into the new backup's directory
        snapshot.release()
        try db.close()
    }

    @Test func aCopyingRepositoryHoldsFilesOfItsOwn() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try databaseWithAClosedLog(dir.path + "/db")
        let repo = BackupRepository(path: dir.path + "/repo", linkFiles: false)
        let tables = db.levelFileCounts.reduce(0, +)
        let (info, work) = try repo.createReportingWork(from: db)
        #expect(work.filesLinked == 0)
        #expect(work.filesCopied == tables + 1)
        for f in try repo.manifest(info.id).files where f.name.hasSuffix(".sst") || f.name.hasSuffix(".log") {
            #expect(inode(repo.path + "/" + f.object) != inode(dir.path + "/db/" + f.name))
        }
        try db.close()
        // Damage in the repository stays there: the database's own table is intact.
        let table = try #require(try repo.manifest(info.id).files.first { $0.name.hasSuffix(".sst") })
        let fd = open(repo.path + "/" + table.object, O_RDWR)
        var b: UInt8 = 0
        #expect(pread(fd, &b, 1, 40) == 1)
        b = ~b
        #expect(pwrite(fd, &b, 1, 40) == 1)
        close(fd)
        #expect(try repo.verify(info.id).damage.map(\.name) == [table.name])
        let live = try FileCopy.checksum(dir.path + "/db/" + table.name, fileSystem: PosixFileSystem())
        #expect(BackupFormat.hex(live.crc) == table.crc32c)
    }

    @Test func pinningASnapshotKeepsItAndPlainBackupsDoNot() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        let repo = BackupRepository(path: dir.path + "/repo")
        try db.put(bytes("k"), bytes("v"))
        try repo.create(from: db)
        #expect(db.snapshots.count == 0)
        let (info, snapshot) = try repo.createPinningSnapshot(from: db)
        #expect(db.snapshots.count == 1 && snapshot.sequence == info.sequence)
        snapshot.release()
        #expect(db.snapshots.count == 0)
        try db.close()
    }

    @Test func checkpointLinksClosedLogsAndCopiesTheActiveOne() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try databaseWithAClosedLog(dir.path + "/db")
        let logs = try logNames(dir.path + "/db")
        let info = try db.checkpoint(to: dir.path + "/cp")
        #expect(try logNames(dir.path + "/cp") == logs)
        #expect(inode(dir.path + "/cp/" + logs[0]) == inode(dir.path + "/db/" + logs[0]))
        #expect(inode(dir.path + "/cp/" + logs[1]) != inode(dir.path + "/db/" + logs[1]))
        #expect(info.logBytes > 0)
        try db.put(bytes("after"), bytes("x"))
        let copy = try DB.open(at: dir.path + "/cp", options: smallOptions(background: false))
        #expect(copy.latestSequence == info.sequence)
        #expect(try copy.get(bytes("tail19")) == bytes("t19"))
        #expect(try copy.get(bytes("k0")) != nil)
        #expect(try copy.get(bytes("after")) == nil)
        try copy.close()
        // Opening the copy replayed and dropped its logs; the source's closed log is untouched.
        #expect(try logNames(dir.path + "/db").contains(logs[0]))
        try db.close()
    }

    /// A repository that links restores its tables by link too, after checking each one: the
    /// restored database shares their inodes, opens as the source stood, and rewriting it (new
    /// writes, a full compaction that deletes the restored tables) leaves the backup intact.
    @Test func restoreLinksCheckedTablesAndTheBackupOutlivesTheRestoredDatabase() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        for n in 0..<3000 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        for n in 0..<50 { try db.put(bytes("tail\(n)"), bytes("t\(n)")) }
        let repo = BackupRepository(path: dir.path + "/repo")
        let info = try repo.create(from: db)
        try db.close()

        try repo.restore(info.id, to: dir.path + "/restored")
        let manifest = try repo.manifest(info.id)
        let tables = manifest.files.filter { $0.name.hasSuffix(".sst") }
        #expect(!tables.isEmpty)
        for f in manifest.files {
            let shared = inode(repo.path + "/" + f.object) == inode(dir.path + "/restored/" + f.name)
            // Tables are linked; everything a database appends to (logs, MANIFEST, CURRENT) is copied.
            #expect(shared == f.name.hasSuffix(".sst"), "\(f.name)")
        }
        let restored = try DB.open(at: dir.path + "/restored", options: smallOptions(background: false))
        #expect(try restored.get(bytes("k2999")) == bytes("v2999"))
        #expect(try restored.get(bytes("tail49")) == bytes("t49"))
        for n in 0..<3000 { try restored.put(bytes("k\(n)"), bytes("new\(n)")) }
        try restored.flush()
        try restored.compactRange()
        #expect(try restored.get(bytes("k7")) == bytes("new7"))
        try restored.close()
        #expect(try repo.verify(info.id).isIntact)
        try repo.restore(info.id, to: dir.path + "/again")
        let again = try DB.open(at: dir.path + "/again", options: smallOptions(background: false))
        #expect(try again.get(bytes("k7")) == bytes("v7"))
        try again.close()
    }

    /// A table damaged in the repository is caught before it is linked: the restore fails naming
    /// it and leaves nothing behind.
    @Test func restoreRefusesToLinkADamagedTable() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        for n in 0..<2000 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        let repo = BackupRepository(path: dir.path + "/repo", linkFiles: false)
        let info = try repo.create(from: db)
        try db.close()
        let table = try #require(try repo.manifest(info.id).files.first { $0.name.hasSuffix(".sst") })
        let path = repo.path + "/" + table.object
        var contents = try #require(try PosixFileSystem().openReadable(path).read(at: 0, count: Int(table.size)))
        contents[10] ^= 0x40
        let f = try PosixFileSystem().createWritable(path)
        try f.append(contents)
        try f.sync()
        try f.close()
        let linking = BackupRepository(path: repo.path)
        #expect {
            try linking.restore(info.id, to: dir.path + "/restored")
        } throws: { e in
            (e as? StorageError)?.code == .corruption && ((e as? StorageError)?.message.contains(table.name) ?? false)
        }
        let left = try PosixFileSystem().listDirectory(dir.path + "/restored").filter { $0 != "LOCK" }
        #expect(left.isEmpty, "\(left)")
    }
}
