import FoundationEssentials
import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

/// The proof of point-in-time restore (issue 6): writes in phases with backups and archive passes
/// interleaved, records every document at several instants, restores to each and compares.
struct PointInTimeRestoreTests {
    typealias State = [String: [Document]]

    /// Every document of every non-empty collection, by `db.coll`, sorted by `_id`.
    static func state(_ db: Database) throws -> State {
        var s: State = [:]
        for d in try db.listDatabases() {
            for c in try db.listCollections(in: d.name) {
                let docs = try db.collection(c.name, in: d.name).find([:], options: FindOptions(sort: ["_id": 1])).all()
                if !docs.isEmpty { s[d.name + "." + c.name] = docs }
            }
        }
        return s
    }

    /// Waits until the wall clock has passed `millis`, so later commits carry a later time.
    static func clockPasses(_ millis: Int64) {
        let deadline = Clock.nowMillis() + 5000
        while Clock.nowMillis() <= millis && Clock.nowMillis() < deadline {}
    }

    struct Fixture {
        let source = TestDirectory()
        let scratch = TestDirectory()
        var repo: String { scratch.path + "/repo" }
        func remove() {
            source.remove()
            scratch.remove()
        }
    }

    /// Builds the history; returns the instants with the state recorded at each.
    static func writeHistory(_ f: Fixture) throws -> [(PointInTimeRestore.Target, State)] {
        let db = try Database.open(at: f.source.path)
        defer { try? db.close() }
        let archiver = try ChangeLogArchiver(database: db, repository: f.repo)
        let backups = BackupRepository(path: f.repo)
        let a = db.collection("a", in: "app")
        let b = db.collection("b", in: "app")
        let logs = db.collection("events", in: "logs")
        var instants: [(PointInTimeRestore.Target, State)] = []
        func record(_ target: PointInTimeRestore.Target) throws { instants.append((target, try state(db))) }
        func atSequence() throws { try record(.sequence(db.engine.latestSequence)) }
        func atTime() throws {
            let now = Clock.nowMillis()
            try record(.time(millis: now))
            clockPasses(now)
        }

        for i in 0..<30 {
            try a.insertOne([
                "_id": .int32(Int32(i)), "n": .int32(Int32(i)), "tags": .array([.string("x"), .string("y")]),
                "nested": .document(["v": .int32(Int32(i)), "w": .string("w")]),
            ])
            try b.insertOne(["_id": .int32(Int32(i)), "s": .string("b\(i)")])
        }
        try archiver.archiveOnce()
        try backups.create(from: db.engine)  // backup 1
        try atSequence()  // exactly a backup: no replay

        // Phase 1: every kind of update, replace, delete.
        _ = try a.updateMany(["_id": ["$lt": .int32(10)]], ["$inc": ["n": .int32(100)], "$set": ["nested.v": .int32(-1)]])
        _ = try a.updateMany(["_id": ["$gte": .int32(10), "$lt": .int32(15)]], ["$unset": ["nested.w": .string("")]])
        _ = try a.updateMany(["_id": ["$gte": .int32(15), "$lt": .int32(20)]], ["$push": ["tags": .string("z")]])
        _ = try a.updateMany(["_id": ["$gte": .int32(20), "$lt": .int32(25)]], ["$pop": ["tags": .int32(1)]])
        _ = try a.replaceOne(["_id": .int32(25)], ["_id": .int32(25), "replaced": .bool(true)])
        _ = try a.deleteMany(["_id": ["$gte": .int32(27)]])
        try logs.insertOne(["_id": .int32(1), "msg": .string("phase 1")])
        try archiver.archiveOnce()
        try atSequence()
        try atTime()

        // Phase 2: catalog events: a drop and a rename (into another database).
        _ = try db.dropCollection("b", in: "app")
        try db.renameCollection("events", in: "logs", to: "archived", in: "app")
        _ = try a.updateOne(["_id": .int32(0)], ["$set": ["after": .string("rename")]])
        try archiver.archiveOnce()
        try atSequence()

        try backups.create(from: db.engine)  // backup 2
        // Phase 3: a second archive pass without a backup in between, and a time instant.
        for i in 100..<110 { try b.insertOne(["_id": .int32(Int32(i)), "s": .string("again")]) }
        _ = try a.updateMany([:], ["$set": ["phase": .int32(3)]])
        try archiver.archiveOnce()
        try atTime()
        _ = try b.deleteMany(["_id": ["$lt": .int32(105)]])
        try archiver.archiveOnce()
        try atSequence()
        return instants
    }

    @Test func restoresEveryRecordedInstantExactly() throws {
        let f = Fixture()
        defer { f.remove() }
        let instants = try Self.writeHistory(f)
        #expect(instants.count == 6)
        var replayed = 0
        for (n, (target, expected)) in instants.enumerated() {
            let dir = f.scratch.path + "/restore-\(n)"
            let result = try PointInTimeRestore.restore(repository: f.repo, to: dir, at: target)
            replayed += result.replayedRecords
            let db = try Database.open(at: dir)
            let restored = try Self.state(db)
            try db.close()
            #expect(restored.keys.sorted() == expected.keys.sorted(), "\(target)")
            for (name, docs) in expected {
                #expect(restored[name] == docs, "\(target): \(name)")
            }
        }
        #expect(replayed > 0)
    }

    @Test func aGapOrAShortArchiveIsRefusedClearly() throws {
        let f = Fixture()
        defer { f.remove() }
        let instants = try Self.writeHistory(f)
        let archive = ChangeLogArchive(repository: f.repo)
        let names = try archive.segmentNames()
        let backups = try BackupRepository(path: f.repo).list()
        // Beyond what was archived.
        let beyond = try archive.archivedThrough() + 1000
        #expect(throws: OsmanthusError.self) {
            try PointInTimeRestore.restore(repository: f.repo, to: f.scratch.path + "/r0", at: .sequence(beyond))
        }
        // A segment between backup 1 and backup 2 removed: a target after backup 1 that needs it
        // fails (the phase-2 target is backup 2 itself, which needs no replay).
        guard let hole = names.first(where: { $0.from > backups[0].sequence && $0.through < backups[1].sequence })
        else {
            Issue.record("no segment between the backups")
            return
        }
        try FileManager.default.removeItem(atPath: hole.path)
        let (_, problems) = try archive.verify()
        #expect(problems.contains { $0.detail.contains("gap") })
        guard case .sequence(let target) = instants[1].0 else { return }
        do {
            try PointInTimeRestore.restore(repository: f.repo, to: f.scratch.path + "/r1", at: .sequence(target))
            Issue.record("restored across a gap")
        } catch let e as OsmanthusError {
            #expect(e.message.contains("gap"))
        }
        #expect(!FileManager.default.fileExists(atPath: f.scratch.path + "/r1"))
        // After backup 2 nothing is missing.
        guard case .sequence(let last) = instants[5].0 else { return }
        #expect(try PointInTimeRestore.restore(repository: f.repo, to: f.scratch.path + "/r2", at: .sequence(last)).backupID == backups[1].id)
    }

    @Test func aDamagedSegmentIsNamedByVerifyAndRefusedByRestore() throws {
        let f = Fixture()
        defer { f.remove() }
        let instants = try Self.writeHistory(f)
        let archive = ChangeLogArchive(repository: f.repo)
        guard let victim = try archive.segmentNames().last, case .sequence(let target) = instants[5].0 else {
            Issue.record("no segments")
            return
        }
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: victim.path)))
        bytes[bytes.count / 2] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: victim.path))
        let (_, problems) = try archive.verify()
        #expect(problems.map(\.name) == [victim.name])
        do {
            try PointInTimeRestore.restore(repository: f.repo, to: f.scratch.path + "/r", at: .sequence(target))
            Issue.record("restored from a damaged segment")
        } catch let e as OsmanthusError {
            #expect(e.message.contains(victim.name))
        }
    }

    @Test func archiverPinsUnarchivedRecordsAgainstTrimming() throws {
        let f = Fixture()
        defer { f.remove() }
        let db = try Database.open(at: f.source.path)
        defer { try? db.close() }
        let archiver = try ChangeLogArchiver(database: db, repository: f.repo)
        let c = db.collection("c", in: "app")
        for i in 0..<20 { try c.insertOne(["_id": .int32(Int32(i))]) }
        // Everything is over this retention; the trimmer (explicit, or the one commits start in
        // the background) may delete only what the archiver has.
        try db.setChangeLogRetention(ChangeLogRetention(maxAgeSeconds: 3600, maxBytes: 0), of: "app")
        try db.trimChangeLog()
        // app.c's create record and the 20 inserts.
        #expect(try Self.recordCount(db) == 21)
        let pass = try archiver.archiveOnce()
        #expect(pass?.records == 21 && pass?.lostThrough == nil)
        try db.trimChangeLog()
        #expect(try Self.recordCount(db) == 0)
        // Detached, trimming runs ahead; the next archiver reports the records it never saw.
        archiver.detach()
        for i in 20..<25 { try c.insertOne(["_id": .int32(Int32(i))]) }
        try db.trimChangeLog()
        #expect(try Self.recordCount(db) == 0)
        let next = try ChangeLogArchiver(database: db, repository: f.repo)
        try c.insertOne(["_id": .int32(99)])
        let lost = try next.archiveOnce()
        #expect(lost?.lostThrough != nil && lost?.records == 1)
        let (_, problems) = try ChangeLogArchive(repository: f.repo).verify()
        #expect(problems.contains { $0.detail.contains("gap") })
    }

    static func recordCount(_ db: Database) throws -> Int {
        let it = db.engine.makeIterator()
        it.seek(ChangeLogFormat.recordPrefix)
        var n = 0
        while it.isValid, ChangeLogFormat.sequence(ofKey: it.key) != nil {
            n += 1
            it.next()
        }
        if let e = it.error { throw e }
        return n
    }

    @Test func anIdleDatabaseRestoresToAnInstantAfterItsLastWrite() throws {
        let f = Fixture()
        defer { f.remove() }
        let db = try Database.open(at: f.source.path)
        defer { try? db.close() }
        let archiver = try ChangeLogArchiver(database: db, repository: f.repo)
        try BackupRepository(path: f.repo).create(from: db.engine)
        try db.collection("c", in: "app").insertOne(["_id": .int32(1), "v": .string("last write")])
        try archiver.archiveOnce()
        let expected = try Self.state(db)
        let quiet = Clock.nowMillis() + 2
        Self.clockPasses(quiet)
        let dir = f.scratch.path + "/r"
        // No pass since the instant: the archive cannot say nothing happened.
        #expect(throws: OsmanthusError.self) {
            try PointInTimeRestore.restore(repository: f.repo, to: dir, at: .time(millis: quiet))
        }
        #expect(try archiver.archiveOnce() == nil)  // nothing new, but HEAD moves on
        try PointInTimeRestore.restore(repository: f.repo, to: dir, at: .time(millis: quiet))
        let restored = try Database.open(at: dir)
        defer { try? restored.close() }
        #expect(try Self.state(restored) == expected)
    }

    @Test func backgroundLoopArchivesWithinItsInterval() async throws {
        let f = Fixture()
        defer { f.remove() }
        let db = try Database.open(at: f.source.path)
        defer { try? db.close() }
        let archiver = try ChangeLogArchiver(database: db, repository: f.repo)
        archiver.start(interval: .milliseconds(50))
        _ = try await db.collection("c", in: "app").insertOne(["_id": .int32(1)])
        let committed = db.engine.latestSequence
        let deadline = Clock.nowMillis() + 10_000
        while archiver.archivedThrough < committed && Clock.nowMillis() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(archiver.archivedThrough >= committed)
        try archiver.stop()
        #expect(archiver.lastError == nil)
    }

    @Test func pruneDropsOnlySegmentsBelowTheOldestKeptBackup() throws {
        let f = Fixture()
        defer { f.remove() }
        let instants = try Self.writeHistory(f)
        let repo = BackupRepository(path: f.repo)
        try repo.prune(keepLast: 1)
        guard let kept = try repo.list().first else {
            Issue.record("no backup left")
            return
        }
        let archive = ChangeLogArchive(repository: f.repo)
        let before = try archive.segmentNames()
        let removed = try archive.prune(through: kept.sequence)
        let after = try archive.segmentNames()
        #expect(removed > 0 && after.count == before.count - removed)
        #expect(after.allSatisfy { $0.through > kept.sequence })
        guard case .sequence(let last) = instants[5].0 else { return }
        let dir = f.scratch.path + "/after-prune"
        try PointInTimeRestore.restore(repository: f.repo, to: dir, at: .sequence(last))
        let db = try Database.open(at: dir)
        defer { try? db.close() }
        #expect(try Self.state(db) == instants[5].1)
    }
}
