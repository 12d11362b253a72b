import Foundation
import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func contents(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// A database (background work off, so no table disappears under a test) with a few flushed
/// tables and some writes still in the log.
private func databaseWithTables(_ path: String) throws -> DB {
    let db = try DB.open(at: path, options: smallOptions(background: false))
    var rng: UInt64 = 11
    for round in 0..<3 {
        for i in 0..<400 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            try db.put(bytes("key\(round)-\(i)"), bytes("value \(rng) " + String(repeating: "v", count: Int(rng % 200))))
        }
        try db.flush()
    }
    for i in 0..<30 { try db.put(bytes("tail\(i)"), bytes("t\(i)")) }
    return db
}

private func tables(of db: DB) -> [FileMetadata] {
    db.monitor.withLock { db.versions.current.levels.flatMap { $0 } }
}

/// Rewrites the manifest of the closed database at `path` as manifest format 1 wrote it: the
/// same edits, without whole-file checksums.
private func downgradeManifestToFormat1(_ path: String) throws {
    let fs = PosixFileSystem()
    let current = String(decoding: try contents(DBFiles.current(path)), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let manifest = joinPath(path, current)
    let reader = LogReader(file: try fs.openReadable(manifest))
    var edits: [VersionEdit] = []
    while let record = try reader.readRecord() {
        var edit = try VersionEdit.decode(record, file: manifest, offset: 0)
        if edit.formatVersion != nil { edit.formatVersion = 1 }
        for i in edit.newFiles.indices { edit.newFiles[i].file.crc32c = nil }
        edits.append(edit)
    }
    let writer = LogWriter(file: try fs.createWritable(manifest))
    for edit in edits { try writer.addRecord(edit.encode()) }
    try writer.sync()
    try writer.close()
}

/// Tables carry the CRC-32C of their whole file from the moment they are written (SPEC.md §8
/// tag 8), and backups name and copy them by it without reading them (§14.2).
struct BackupRecordedChecksumTests {
    @Test func everyTableRecordsItsWholeFileChecksumAndKeepsItAcrossReopenAndCompaction() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = dir.path + "/db"
        var db = try databaseWithTables(path)
        func check() throws {
            let files = tables(of: db)
            #expect(!files.isEmpty)
            for t in files {
                let actual = try FileCopy.checksum(DBFiles.table(path, t.number), fileSystem: PosixFileSystem())
                #expect(t.crc32c == actual.crc, "table \(t.number)")
                #expect(t.size == actual.size)
            }
        }
        try check()
        try db.compactRange()
        try check()
        try db.close()
        db = try DB.open(at: path, options: smallOptions(background: false))
        try check()
        try db.close()
    }

    @Test func copiedBackupReadsNoTableAndRestoresByteIdentical() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = dir.path + "/db"
        let db = try databaseWithTables(path)
        let repo = BackupRepository(path: dir.path + "/repo", linkFiles: false)
        let snapshot = db.snapshot()
        let (info, work) = try repo.createReportingWork(from: db)
        let files = tables(of: db)
        // Nothing read for a checksum: every table's was recorded when it was written.
        #expect(work.bytesChecksummed == 0)
        #expect(work.filesLinked == 0)
        #expect(work.filesCopied >= files.count)
        #expect(info.copiedFiles == files.count && info.linkedFiles == 0)
        #expect(info.tablesSummary == "0 tables linked, \(files.count) copied, 0 already stored")
        let manifest = try repo.manifest(info.id)
        for t in files {
            let name = DBFiles.number(t.number) + ".sst"
            let entry = try #require(manifest.files.first { $0.name == name })
            let source = try contents(DBFiles.table(path, t.number))
            #expect(try contents(repo.path + "/" + entry.object) == source, "\(name) differs in the repository")
            #expect(entry.crc32c == BackupFormat.hex(CRC32C.checksum(source)))
        }
        #expect(try repo.verify(info.id).isIntact)
        try repo.restore(info.id, to: dir.path + "/restored")
        for t in files {
            let name = DBFiles.number(t.number) + ".sst"
            #expect(try contents(dir.path + "/restored/" + name) == (try contents(DBFiles.table(path, t.number))))
        }
        let restored = try DB.open(at: dir.path + "/restored", options: smallOptions(background: false))
        let expected = try allEntries(db.makeIterator(options: ReadOptions(snapshot: snapshot)))
        #expect(entriesEqual(expected, try allEntries(restored.makeIterator())))
        // The restored database keeps the recorded checksums (its manifest came from the backup).
        #expect(tables(of: restored).allSatisfy { $0.crc32c != nil })
        try restored.close()
        snapshot.release()
        try db.close()
    }

    @Test func linkedBackupSaysItLinked() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try databaseWithTables(dir.path + "/db")
        let repo = BackupRepository(path: dir.path + "/repo")
        let (info, work) = try repo.createReportingWork(from: db)
        let count = tables(of: db).count
        #expect(work.bytesChecksummed == 0)
        #expect(info.linkedFiles == count && info.copiedFiles == count)
        #expect(info.tablesSummary == "\(count) tables linked, 0 copied, 0 already stored")
        let again = try repo.create(from: db)
        #expect(again.tablesSummary == "0 tables linked, 0 copied, \(count) already stored")
        try db.close()
    }

    @Test func tableDamagedAfterItWasWrittenIsAVerifyErrorNamingIt() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = dir.path + "/db"
        let db = try databaseWithTables(path)
        let victim = try #require(tables(of: db).first)
        let recorded = try #require(victim.crc32c)
        // Bit rot in the live table after it was written: the backup copies the bytes as they
        // are and keeps the checksum they were written with.
        try flipByte(PosixFileSystem(), DBFiles.table(path, victim.number), at: 20)
        let damaged = try FileCopy.checksum(DBFiles.table(path, victim.number), fileSystem: PosixFileSystem())
        #expect(damaged.crc != recorded)
        let repo = BackupRepository(path: dir.path + "/repo", linkFiles: false)
        let info = try repo.create(from: db)
        let report = try repo.verify(info.id)
        let name = DBFiles.number(victim.number) + ".sst"
        #expect(report.damage.map(\.name) == [name])
        #expect(
            report.damage.first?.problem
                == .checksumMismatch(expected: BackupFormat.hex(recorded), actual: BackupFormat.hex(damaged.crc)))
        #expect(
            report.damage.first?.problem.description
                == "crc32c \(BackupFormat.hex(damaged.crc)), expected \(BackupFormat.hex(recorded))")
        #expect {
            try repo.restore(info.id, to: dir.path + "/restored")
        } throws: { e in
            (e as? StorageError)?.code == .corruption && "\(e)".contains(name)
        }
        try db.close()
    }

    @Test func tablesOfAFormat1ManifestAreChecksummedAsBeforeAndBackUp() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = dir.path + "/db"
        var db = try databaseWithTables(path)
        let snapshotEntries = try allEntries(db.makeIterator())
        try db.close()
        try downgradeManifestToFormat1(path)
        db = try DB.open(at: path, options: smallOptions(background: false))
        let files = tables(of: db)
        // The three flushed before; opening may flush the log's tail into a new table, which
        // records its checksum.
        let old = files.filter { $0.crc32c == nil }
        #expect(old.count >= 3)
        for linkFiles in [false, true] {
            let repo = BackupRepository(path: dir.path + "/repo-\(linkFiles)", linkFiles: linkFiles)
            let (info, work) = try repo.createReportingWork(from: db)
            #expect(info.copiedFiles == files.count)
            #expect(try repo.verify(info.id).isIntact)
            let manifest = try repo.manifest(info.id)
            for t in files {
                let name = DBFiles.number(t.number) + ".sst"
                let entry = try #require(manifest.files.first { $0.name == name })
                #expect(entry.crc32c == BackupFormat.hex(CRC32C.checksum(try contents(DBFiles.table(path, t.number)))))
            }
            if !linkFiles {
                // The first backup in this process read every table once for its checksum.
                #expect(work.bytesChecksummed >= old.reduce(0) { $0 + $1.size })
            }
            let target = dir.path + "/restored-\(linkFiles)"
            try repo.restore(info.id, to: target)
            let restored = try DB.open(at: target, options: smallOptions(background: false))
            #expect(entriesEqual(snapshotEntries, try allEntries(restored.makeIterator())))
            try restored.close()
        }
        // New tables written from now on carry checksums; the old ones still do not.
        for i in 0..<200 { try db.put(bytes("new\(i)"), bytes(String(repeating: "n", count: 100))) }
        try db.flush()
        let now = tables(of: db)
        #expect(now.filter { $0.crc32c != nil }.count > files.count - old.count)
        #expect(now.contains { $0.crc32c == nil })
        try db.close()
    }
}
