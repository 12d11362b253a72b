import FoundationEssentials
import Glibc
import OsmanthusStorage
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A scratch directory with a small database in `db/` (flushed tables plus a log tail).
private final class Fixture {
    let path: String
    let cli: CLIRunner
    var db: String { path + "/db" }

    init(tableKeys: Int = 3000, logKeys: Int = 10) throws {
        var template = Array("/tmp/osmanthus-cli-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        precondition(made, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        cli = try CLIRunner(scratch: path)
        var options = Options()
        options.memtableSize = 64 << 10
        let database = try DB.open(at: db, options: options)
        for n in 0..<tableKeys { try database.put(bytes("key\(n)"), bytes("value\(n)")) }
        try database.flush()
        for n in 0..<logKeys { try database.put(bytes("log\(n)"), bytes("tail\(n)")) }
        try database.close()
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func run(_ arguments: String...) throws -> CLIRunner.Result { try cli.run(arguments) }

    func tables(in directory: String) throws -> [String] {
        try PosixFileSystem().listDirectory(directory).filter { $0.hasSuffix(".sst") }
    }
}

private func flipByte(_ path: String, at offset: Int) {
    let fd = open(path, O_RDWR)
    precondition(fd >= 0)
    defer { close(fd) }
    var b: UInt8 = 0
    _ = pread(fd, &b, 1, off_t(offset))
    b = ~b
    _ = pwrite(fd, &b, 1, off_t(offset))
}

private struct StatsJSON: Decodable {
    struct Level: Decodable {
        let level: Int
        let files: Int
        let bytes: UInt64
    }
    let sequence: UInt64
    let levels: [Level]
    let totalFiles: Int
    let totalBytes: UInt64
}

private struct CheckJSON: Decodable {
    struct Problem: Decodable {
        let file: String?
        let offset: UInt64?
        let message: String
    }
    let intact: Bool
    let tables: Int
    let logs: Int
    let problems: [Problem]
}

private struct BackupJSON: Decodable {
    let id: String
    let sequence: UInt64
    let copiedFiles: Int
    let linkedFiles: Int?
    let reusedFiles: Int
}

private struct VerifyJSON: Decodable {
    struct Damage: Decodable {
        let name: String
        let problem: String
    }
    let intact: Bool
    let damage: [Damage]
}

private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}

@Suite(.serialized)
struct AdminCommandTests {
    @Test func statsReportsLevelsAndSequenceAsTextAndJSON() throws {
        let f = try Fixture()
        let text = try f.run("stats", "--data-dir", f.db)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("sequence 3010\n"))
        let json = try f.run("stats", "--data-dir", f.db, "--json")
        #expect(json.status == 0)
        let stats = try decode(StatsJSON.self, json.stdout)
        #expect(stats.sequence == 3010)
        #expect(stats.levels.count == 7)
        #expect(stats.totalFiles == (try f.tables(in: f.db)).count)
        #expect(stats.totalBytes == stats.levels.reduce(0) { $0 + $1.bytes })
    }

    @Test func snapshotCopiesTheDatabaseAndRefusesAnExistingTarget() throws {
        let f = try Fixture()
        let first = try f.run("snapshot", "--data-dir", f.db, "--to", f.path + "/snap")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("sequence 3010"))
        let copy = try DB.open(at: f.path + "/snap")
        #expect(try copy.get(bytes("key2999")) == bytes("value2999"))
        #expect(try copy.get(bytes("log9")) == bytes("tail9"))
        try copy.close()
        let second = try f.run("snapshot", "--data-dir", f.db, "--to", f.path + "/snap")
        #expect(second.status == 1)
        #expect(second.stderr.contains("already exists"))
    }

    @Test func everyCommandRefusesADirectoryARunningDatabaseHolds() throws {
        let f = try Fixture()
        let open = try DB.open(at: f.db)
        defer { try? open.close() }
        let commands: [[String]] = [
            ["stats", "--data-dir", f.db], ["check", "--data-dir", f.db], ["compact", "--data-dir", f.db],
            ["snapshot", "--data-dir", f.db, "--to", f.path + "/snap"],
            ["backup", "create", "--repo", f.path + "/repo", "--data-dir", f.db],
        ]
        for command in commands {
            let r = try f.cli.run(command)
            #expect(r.status == 1, "\(command)")
            #expect(r.stderr.contains("is in use by a running process"), "\(command): \(r.stderr)")
        }
        #expect(!PosixFileSystem().fileExists(f.path + "/snap"))
    }

    @Test func checkPassesACleanDatabaseAndNamesADamagedTableWithItsOffset() throws {
        let f = try Fixture()
        let clean = try f.run("check", "--data-dir", f.db)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.hasPrefix("ok: "))

        let table = try #require(try f.tables(in: f.db).first)
        flipByte(f.db + "/" + table, at: 200)
        let damaged = try f.run("check", "--data-dir", f.db)
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("damage: \(f.db)/\(table) at offset "))
        let json = try f.run("check", "--data-dir", f.db, "--json")
        #expect(json.status == 1)
        let report = try decode(CheckJSON.self, json.stdout)
        #expect(!report.intact)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.file == f.db + "/" + table)
        #expect(report.problems.first?.offset != nil)
    }

    @Test func checkReportsADamagedLogRecordThatOpeningHitsFirst() throws {
        let f = try Fixture(tableKeys: 0, logKeys: 500)
        let log = try #require(try PosixFileSystem().listDirectory(f.db).first { $0.hasSuffix(".log") })
        // Damage the first record: intact records follow, so it is not a torn tail.
        flipByte(f.db + "/" + log, at: 20)
        let r = try f.run("check", "--data-dir", f.db, "--json")
        #expect(r.status == 1)
        let report = try decode(CheckJSON.self, r.stdout)
        #expect(report.problems.first?.file == f.db + "/" + log)
        #expect(report.problems.first?.offset == 0)
    }

    @Test func backupCreateListVerifyRestoreAndPrune() throws {
        let f = try Fixture()
        let repo = f.path + "/repo"
        let created = try f.run("backup", "create", "--repo", repo, "--data-dir", f.db, "--json")
        #expect(created.status == 0, "\(created.stderr)")
        let first = try decode(BackupJSON.self, created.stdout)
        #expect(first.sequence == 3010)
        #expect(first.copiedFiles > 0)
        let again = try decode(
            BackupJSON.self, try f.run("backup", "create", "--repo", repo, "--data-dir", f.db, "--json").stdout)
        #expect(again.copiedFiles == 0)
        #expect(again.reusedFiles == first.copiedFiles)
        // The repository is on the database's file system: every table was linked, and the
        // message says so rather than "copied".
        #expect(first.linkedFiles == first.copiedFiles)

        let list = try f.run("backup", "list", "--repo", repo, "--json")
        #expect(list.status == 0)
        #expect(try decode([BackupJSON].self, list.stdout).map(\.id) == [first.id, again.id])

        let verify = try f.run("backup", "verify", "--repo", repo, first.id)
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("ok"))

        let restored = try f.run("backup", "restore", "--repo", repo, first.id, "--to", f.path + "/restored")
        #expect(restored.status == 0, "\(restored.stderr)")
        // Before anything opens them: tables come back as links to the repository's files, or
        // as copies with --copy-files.
        let copied = try f.run("backup", "restore", "--repo", repo, first.id, "--to", f.path + "/copied", "--copy-files")
        #expect(copied.status == 0, "\(copied.stderr)")
        let tables = try PosixFileSystem().listDirectory(f.path + "/restored").filter { $0.hasSuffix(".sst") }
        #expect(!tables.isEmpty)
        func links(_ path: String) -> Int {
            var st = stat()
            return stat(path, &st) == 0 ? Int(st.st_nlink) : 0
        }
        for t in tables {
            #expect(links(f.path + "/restored/" + t) > 1, "\(t)")
            #expect(links(f.path + "/copied/" + t) == 1, "\(t)")
        }
        let db = try DB.open(at: f.path + "/restored")
        #expect(try db.get(bytes("key0")) == bytes("value0"))
        #expect(try db.get(bytes("log0")) == bytes("tail0"))
        try db.close()
        let refused = try f.run("backup", "restore", "--repo", repo, first.id, "--to", f.path + "/restored")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"))

        let pruned = try f.run("backup", "prune", "--repo", repo, "--keep-last", "1")
        #expect(pruned.status == 0)
        #expect(pruned.stdout.contains("removed 1 backups"))
        #expect(
            try decode([BackupJSON].self, try f.run("backup", "list", "--repo", repo, "--json").stdout).map(\.id) == [
                again.id
            ])
    }

    @Test func backupCreateSaysItLinkedTablesRatherThanCopiedThem() throws {
        let f = try Fixture()
        let repo = f.path + "/repo"
        let first = try f.run("backup", "create", "--repo", repo, "--data-dir", f.db)
        #expect(first.status == 0, "\(first.stderr)")
        let tables = try PosixFileSystem().listDirectory(f.db).filter { $0.hasSuffix(".sst") }.count
        #expect(tables > 0)
        #expect(first.stdout.contains("; \(tables) tables linked, 0 copied, 0 already stored"), "\(first.stdout)")
        let again = try f.run("backup", "create", "--repo", repo, "--data-dir", f.db)
        #expect(again.stdout.contains("; 0 tables linked, 0 copied, \(tables) already stored"), "\(again.stdout)")
    }

    @Test func backupVerifyNamesADamagedFileAndRestoreRefusesIt() throws {
        let f = try Fixture()
        let repo = f.path + "/repo"
        let created = try decode(
            BackupJSON.self, try f.run("backup", "create", "--repo", repo, "--data-dir", f.db, "--json").stdout)
        let stored = try #require(try PosixFileSystem().listDirectory(repo + "/files").first)
        flipByte(repo + "/files/" + stored, at: 50)
        let verify = try f.run("backup", "verify", "--repo", repo, created.id, "--json")
        #expect(verify.status == 1)
        let report = try decode(VerifyJSON.self, verify.stdout)
        #expect(!report.intact)
        #expect(report.damage.map(\.problem) == ["checksumMismatch"])
        #expect(stored.hasPrefix(String(report.damage.first?.name.prefix(6) ?? "?")))
        let restore = try f.run("backup", "restore", "--repo", repo, created.id, "--to", f.path + "/restored")
        #expect(restore.status == 1)
        #expect(restore.stderr.contains("damaged"))
    }

    @Test func dumpWALAndDumpSSTPrintEntries() throws {
        let f = try Fixture(tableKeys: 3, logKeys: 2)
        let fs = PosixFileSystem()
        let log = try #require(try fs.listDirectory(f.db).filter { $0.hasSuffix(".log") }.sorted().last)
        let wal = try f.run("dump-wal", f.db + "/" + log)
        #expect(wal.status == 0, "\(wal.stderr)")
        #expect(wal.stdout.contains("sequence 4 count 1"))
        #expect(wal.stdout.contains("  put log0 = tail0\n"))
        #expect(wal.stdout.contains("2 records"))

        let table = try #require(try f.tables(in: f.db).first)
        let sst = try f.run("dump-sst", f.db + "/" + table)
        #expect(sst.status == 0, "\(sst.stderr)")
        #expect(sst.stdout.contains("key0 @1 put => value0\n"))
        #expect(sst.stdout.contains("3 entries"))

        let bad = try f.run("dump-sst", f.db + "/" + log)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("corruption"))
    }

    @Test func compactLeavesOneLevelAndKeepsTheData() throws {
        let f = try Fixture()
        let r = try f.run("compact", "--data-dir", f.db)
        #expect(r.status == 0, "\(r.stderr)")
        let stats = try decode(StatsJSON.self, try f.run("stats", "--data-dir", f.db, "--json").stdout)
        #expect(stats.levels.filter { $0.files > 0 }.count == 1)
        let db = try DB.open(at: f.db)
        #expect(try db.get(bytes("log9")) == bytes("tail9"))
        try db.close()
    }
}
