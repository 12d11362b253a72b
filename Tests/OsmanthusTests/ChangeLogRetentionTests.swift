import OsmanthusBSON
import Testing

@testable import Osmanthus

struct ChangeLogRetentionTests {
    static func code(_ e: any Error) -> Int32? { (e as? OsmanthusError)?.code.value }

    func allEvents(_ db: Database, _ scope: ChangeStreamScope, after token: Document) throws -> [ChangeEvent] {
        var reader = try db.changeStreamReader(scope, options: ChangeStreamOptions(resumeAfter: token))
        var all: [ChangeEvent] = []
        while true {
            let batch = try reader.poll()
            if batch.isEmpty { return all }
            all += batch
        }
    }

    @Test func sizeRetentionTrimsOldestAndOlderTokensFailWith286() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var db = try Database.open(at: dir.path)
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        let c = db.collection("c", in: "app")
        let other = db.collection("c", in: "keep")
        for i in 0..<50 {
            try c.insertOne(["_id": .int32(Int32(i)), "pad": .string(String(repeating: "x", count: 100))])
            try other.insertOne(["_id": .int32(Int32(i))])
        }
        let tokens = try allEvents(db, .database("app"), after: origin).map(\.resumeToken)
        #expect(tokens.count == 50)
        try db.setChangeLogRetention(ChangeLogRetention(maxAgeSeconds: 3600, maxBytes: 2000), of: "app")
        #expect(db.changeLogRetention(of: "app").maxBytes == 2000)
        let deleted = try db.trimChangeLog()
        #expect(deleted > 30 && deleted < 50)

        // Resuming before the trimmed point: 286; within retention: the rest, exactly.
        #expect { _ = try allEvents(db, .database("app"), after: origin) } throws: { Self.code($0) == 286 }
        #expect { _ = try allEvents(db, .collection(database: "app", name: "c"), after: tokens[0]) } throws: {
            Self.code($0) == 286
        }
        let last = tokens[48]
        #expect(try allEvents(db, .database("app"), after: last).count == 1)
        let firstKept = tokens[deleted - 1]  // the last trimmed event: resuming after it needs only kept ones
        #expect(try allEvents(db, .database("app"), after: firstKept).count == 50 - deleted)
        // Another database keeps all of its history.
        #expect(try allEvents(db, .database("keep"), after: origin).count == 50)
        // A cluster stream needs every database's history.
        #expect { _ = try allEvents(db, .cluster, after: origin) } throws: { Self.code($0) == 286 }

        // The setting and the trimmed point survive a restart.
        try db.close()
        db = try Database.open(at: dir.path)
        #expect(db.changeLogRetention(of: "app") == ChangeLogRetention(maxAgeSeconds: 3600, maxBytes: 2000))
        #expect { _ = try allEvents(db, .database("app"), after: tokens[0]) } throws: { Self.code($0) == 286 }
        #expect(try allEvents(db, .database("app"), after: firstKept).count == 50 - deleted)
        try db.close()
    }

    @Test func ageRetentionTrimsRecordsOlderThanMaxAge() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "app")
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        try c.insertOne(["_id": 1])
        try c.insertOne(["_id": 2])
        let tokens = try allEvents(db, .database("app"), after: origin).map(\.resumeToken)
        try db.setChangeLogRetention(ChangeLogRetention(maxAgeSeconds: 60), of: "app")
        // Nothing is a minute old yet.
        #expect(try db.changeLog.trimRecords() == 0)
        // Two minutes later, all are: app.c's create record and both inserts.
        #expect(try db.changeLog.trimRecords(nowMillis: Clock.nowMillis() + 120_000) == 3)
        #expect { _ = try allEvents(db, .database("app"), after: tokens[0]) } throws: { Self.code($0) == 286 }
        #expect(try allEvents(db, .database("app"), after: tokens[1]).isEmpty)
        // startAtOperationTime before the trimmed point fails the same way.
        let old = ChangeStreamOptions(startAtOperationTime: .timestamp(increment: 0, seconds: 1))
        #expect { _ = try db.changeStreamReader(.database("app"), options: old) } throws: { Self.code($0) == 286 }
        try db.close()
    }

    @Test func aStreamOvertakenByTheTrimmerFailsInsteadOfSkipping() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "app")
        var reader = try db.changeStreamReader(.database("app"), options: ChangeStreamOptions())
        for i in 0..<10 { try c.insertOne(["_id": .int32(Int32(i))]) }
        #expect(try reader.poll(limit: 2).count == 2)
        try db.setChangeLogRetention(ChangeLogRetention(maxAgeSeconds: 3600, maxBytes: 0), of: "app")
        // The commits above may have started a background trim that runs once the retention is
        // set, so this call trims whatever that one left; after both, nothing is left to trim.
        _ = try db.trimChangeLog()
        #expect(try db.trimChangeLog() == 0)
        #expect { _ = try reader.poll() } throws: { Self.code($0) == 286 }
        try db.close()
    }
}
