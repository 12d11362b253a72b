import OsmanthusBSON
import Testing

@testable import Osmanthus

struct ChangeStreamTests {
    func withDatabase(_ options: DatabaseOptions = DatabaseOptions(), _ body: (Database) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path, options: options)
        try body(db)
        try db.close()
    }

    /// Every event the stream has now (polled, never waits).
    func events(_ db: Database, _ scope: ChangeStreamScope, _ options: ChangeStreamOptions = ChangeStreamOptions())
        throws -> [ChangeEvent]
    {
        var reader = try db.changeStreamReader(scope, options: options)
        return try drain(&reader)
    }

    func drain(_ reader: inout ChangeStreamReader) throws -> [ChangeEvent] {
        var all: [ChangeEvent] = []
        while true {
            let batch = try reader.poll(limit: 3)
            if batch.isEmpty { return all }
            all += batch
        }
    }

    /// A token from before any write: resuming from it replays the whole log.
    func origin(_ db: Database) throws -> Document {
        try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
    }

    static func code(_ e: any Error) -> Int32? { (e as? OsmanthusError)?.code.value }

    @Test func eachWriteIsOneEventInCommitOrder() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "app")
            let start = try origin(db)
            try c.insertOne(["_id": 1, "a": ["b": 1, "x": 0], "c": 5])
            try c.updateOne(["_id": 1], ["$set": ["a.b": 2], "$unset": ["c": ""]])
            try c.replaceOne(["_id": 1], ["_id": 1, "z": true])
            #expect(try c.deleteOne(["_id": 1]) == 1)
            let ev = try events(db, .collection(database: "app", name: "c"), ChangeStreamOptions(resumeAfter: start))
            #expect(ev.map(\.operationType) == [.insert, .update, .replace, .delete])
            #expect(ev[0].fullDocument == ["_id": 1, "a": ["b": 1, "x": 0], "c": 5])
            #expect(ev[0].documentKey == ["_id": 1])
            #expect(ev[0].namespace == ["db": "app", "coll": "c"])
            #expect(ev[1].fullDocument == nil)
            #expect(ev[1].updateDescription == [
                "updatedFields": ["a.b": 2], "removedFields": ["c"], "truncatedArrays": [],
            ])
            #expect(ev[2].fullDocument == ["_id": 1, "z": true])
            #expect(ev[3].documentKey == ["_id": 1])
            #expect(ev[3].fullDocument == nil)
            // Tokens and cluster times grow with commit order.
            let tokens = ev.map { $0.resumeToken["_data"]?.stringValue ?? "" }
            #expect(tokens == tokens.sorted() && Set(tokens).count == 4)
            let times = ev.compactMap { ev -> [UInt32]? in
                guard case .timestamp(let i, let t)? = ev.clusterTime else { return nil }
                return [t, i]
            }
            #expect(times.count == 4 && times == times.sorted { $0.lexicographicallyPrecedes($1) })
            #expect(ev.allSatisfy { ($0.wallTime ?? 0) > 0 })
        }
    }

    @Test func updateDescriptionReportsArrayTruncationAndAppends() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "app")
            try c.insertOne(["_id": 1, "xs": [1, 2, 3], "ys": [1]])
            let start = try origin(db)
            try c.updateOne(["_id": 1], ["$pop": ["xs": 1], "$push": ["ys": 7]])
            let ev = try events(db, .database("app"), ChangeStreamOptions(resumeAfter: start))
            #expect(ev.count == 1)
            #expect(ev.first?.updateDescription == [
                "updatedFields": ["ys.1": 7], "removedFields": [],
                "truncatedArrays": [["field": "xs", "newSize": .int32(2)]],
            ])
        }
    }

    @Test func fullDocumentModesForUpdates() throws {
        try withDatabase { db in
            let plain = db.collection("plain", in: "app")
            try db.createCollection("imaged", in: "app", options: CollectionOptions(changeStreamPreAndPostImages: true))
            let imaged = db.collection("imaged", in: "app")
            try plain.insertOne(["_id": 1, "v": 0])
            try imaged.insertOne(["_id": 1, "v": 0])
            let start = try origin(db)
            try plain.updateOne(["_id": 1], ["$inc": ["v": 1]])
            try plain.updateOne(["_id": 1], ["$inc": ["v": 1]])
            try imaged.updateOne(["_id": 1], ["$inc": ["v": 1]])
            let plainScope = ChangeStreamScope.collection(database: "app", name: "plain")
            let imagedScope = ChangeStreamScope.collection(database: "app", name: "imaged")

            // updateLookup: the document as it is now, for both events.
            let looked = try events(db, plainScope, ChangeStreamOptions(fullDocument: .updateLookup, resumeAfter: start))
            #expect(looked.map(\.fullDocument) == [["_id": 1, "v": 2], ["_id": 1, "v": 2]])
            // whenAvailable: null without stored post-images, the post-image with them.
            let plainWhen = try events(db, plainScope, ChangeStreamOptions(fullDocument: .whenAvailable, resumeAfter: start))
            #expect(plainWhen.map { $0.document["fullDocument"] } == [.null, .null])
            let imagedWhen = try events(db, imagedScope, ChangeStreamOptions(fullDocument: .required, resumeAfter: start))
            #expect(imagedWhen.map(\.fullDocument) == [["_id": 1, "v": 1]])
            // required without post-images: the stream fails rather than lie.
            #expect(throws: OsmanthusError.self) {
                _ = try events(db, plainScope, ChangeStreamOptions(fullDocument: .required, resumeAfter: start))
            }
        }
    }

    @Test func preImagesOnlyForCollectionsThatEnableThem() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "app")
            try c.insertOne(["_id": 1, "v": "first"])
            try c.updateOne(["_id": 1], ["$set": ["v": "second"]])  // before images are on
            try db.setChangeStreamPreAndPostImages(true, for: "c", in: "app")
            let afterEnable = try origin(db)
            try c.replaceOne(["_id": 1], ["_id": 1, "v": "third"])
            try c.deleteOne(["_id": 1])
            let scope = ChangeStreamScope.collection(database: "app", name: "c")
            let ev = try events(
                db, scope, ChangeStreamOptions(fullDocumentBeforeChange: .required, resumeAfter: afterEnable))
            #expect(ev.map(\.operationType) == [.replace, .delete])
            #expect(ev.map(\.fullDocumentBeforeChange) == [["_id": 1, "v": "second"], ["_id": 1, "v": "third"]])
            #expect(try db.listCollections(in: "app").first?.options["changeStreamPreAndPostImages"]
                == .document(["enabled": true]))
            // The whole history: the update from before has no pre-image.
            let all = try events(db, scope, ChangeStreamOptions(fullDocumentBeforeChange: .whenAvailable,
                                                                resumeAfter: ResumeToken(sequence: 0, kind: .highWater).document))
            #expect(all.map(\.operationType) == [.insert, .update, .replace, .delete])
            #expect(all[0].document["fullDocumentBeforeChange"] == nil)
            #expect(all[1].document["fullDocumentBeforeChange"] == .null)
            #expect(throws: OsmanthusError.self) {
                _ = try events(db, scope, ChangeStreamOptions(fullDocumentBeforeChange: .required,
                                                             resumeAfter: ResumeToken(sequence: 0, kind: .highWater).document))
            }
        }
    }

    @Test func scopesSeeTheirCollectionDatabaseOrEverything() throws {
        try withDatabase { db in
            let start = try origin(db)
            try db.collection("a", in: "one").insertOne(["_id": 1])
            try db.collection("b", in: "one").insertOne(["_id": 2])
            try db.collection("a", in: "two").insertOne(["_id": 3])
            try db.collection("x", in: "admin").insertOne(["_id": 4])
            func ids(_ scope: ChangeStreamScope) throws -> [BSONValue] {
                try events(db, scope, ChangeStreamOptions(resumeAfter: start)).compactMap { $0.documentKey?["_id"] }
            }
            #expect(try ids(.collection(database: "one", name: "a")) == [1])
            #expect(try ids(.database("one")) == [1, 2])
            #expect(try ids(.database("admin")) == [4])
            #expect(try ids(.cluster) == [1, 2, 3])
        }
    }

    @Test func matchAndProjectShapeEvents() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "app")
            let start = try origin(db)
            try c.insertOne(["_id": 1, "n": 5])
            try c.insertOne(["_id": 2, "n": 50])
            try c.updateOne(["_id": 2], ["$set": ["n": 51]])
            let scope = ChangeStreamScope.collection(database: "app", name: "c")
            let big = try events(db, scope, ChangeStreamOptions(resumeAfter: start, pipeline: [
                ["$match": ["operationType": "insert", "fullDocument.n": ["$gt": 10]]],
                ["$project": ["fullDocument": 0, "wallTime": 0]],
            ]))
            #expect(big.count == 1)
            #expect(big.first?.documentKey == ["_id": 2])
            #expect(big.first?.document["fullDocument"] == nil && big.first?.document["wallTime"] == nil)
            #expect(big.first?.resumeToken.isEmpty == false)
            // Removing the resume token is refused (280), as MongoDB does.
            #expect {
                _ = try events(db, scope, ChangeStreamOptions(resumeAfter: start, pipeline: [["$project": ["_id": 0]]]))
            } throws: { Self.code($0) == 280 }
            #expect {
                _ = try events(db, scope, ChangeStreamOptions(pipeline: [["$group": ["_id": 1]]]))
            } throws: { Self.code($0) == 40602 }
        }
    }

    @Test func resumeAfterEveryPositionYieldsExactlyTheRest() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "app")
            let start = try origin(db)
            for i in 0..<6 { try c.insertOne(["_id": .int32(Int32(i))]) }
            try db.collection("other", in: "app").insertOne(["_id": 99])  // interleaved, other collection
            try c.updateOne(["_id": 0], ["$set": ["x": 1]])
            let scope = ChangeStreamScope.collection(database: "app", name: "c")
            let all = try events(db, scope, ChangeStreamOptions(resumeAfter: start))
            #expect(all.count == 7)
            for (i, event) in all.enumerated() {
                let rest = try events(db, scope, ChangeStreamOptions(resumeAfter: event.resumeToken))
                #expect(rest.map(\.resumeToken) == all.dropFirst(i + 1).map(\.resumeToken))
                // startAtOperationTime of an event starts with that event.
                let fromTime = try events(db, scope, ChangeStreamOptions(startAtOperationTime: event.clusterTime))
                #expect(fromTime.map(\.resumeToken) == all.dropFirst(i).map(\.resumeToken))
            }
            // The postBatchResumeToken after reading everything resumes with nothing left.
            var reader = try db.changeStreamReader(scope, options: ChangeStreamOptions(resumeAfter: start))
            _ = try drain(&reader)
            try c.insertOne(["_id": 100])
            let after = try events(db, scope, ChangeStreamOptions(resumeAfter: reader.postBatchResumeToken))
            #expect(after.compactMap { $0.documentKey?["_id"] } == [100])
        }
    }

    @Test func dropInvalidatesAndStartAfterBeginsAgain() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "app")
            try c.insertOne(["_id": 1])
            let scope = ChangeStreamScope.collection(database: "app", name: "c")
            var reader = try db.changeStreamReader(scope, options: ChangeStreamOptions())
            try db.dropCollection("c", in: "app")
            let ev = try drain(&reader)
            #expect(ev.map(\.operationType) == [.drop, .invalidate])
            #expect(reader.isFinished)
            #expect(try reader.poll().isEmpty)
            let invalidate = try #require(ev.last?.resumeToken)
            // resumeAfter the drop event replays the invalidate; after the invalidate itself it is refused.
            let again = try events(db, scope, ChangeStreamOptions(resumeAfter: ev[0].resumeToken))
            #expect(again.map(\.operationType) == [.invalidate])
            #expect { _ = try events(db, scope, ChangeStreamOptions(resumeAfter: invalidate)) } throws: {
                Self.code($0) == 260
            }
            try c.insertOne(["_id": 2])
            let restarted = try events(db, scope, ChangeStreamOptions(startAfter: invalidate))
            #expect(restarted.map(\.operationType) == [.insert])
            #expect(restarted.first?.documentKey == ["_id": 2])
        }
    }

    @Test func renameAndDropDatabaseEvents() throws {
        try withDatabase { db in
            try db.collection("c", in: "app").insertOne(["_id": 1])
            try db.collection("d", in: "app").insertOne(["_id": 1])
            let start = try origin(db)
            try db.renameCollection("c", in: "app", to: "c2", in: "app")
            let renamed = try events(db, .collection(database: "app", name: "c"), ChangeStreamOptions(resumeAfter: start))
            #expect(renamed.map(\.operationType) == [.rename, .invalidate])
            #expect(renamed.first?.document["to"] == .document(["db": "app", "coll": "c2"]))
            try db.dropDatabase("app")
            let dbEvents = try events(db, .database("app"), ChangeStreamOptions(resumeAfter: start))
            #expect(dbEvents.map(\.operationType) == [.rename, .drop, .drop, .dropDatabase, .invalidate])
            #expect(dbEvents[3].namespace == ["db": "app"])
            // A cluster stream sees the same and is not invalidated.
            let cluster = try events(db, .cluster, ChangeStreamOptions(resumeAfter: start))
            #expect(cluster.map(\.operationType) == [.rename, .drop, .drop, .dropDatabase])
        }
    }

    @Test func transactionWritesAppearTogetherInOrder() throws {
        try withDatabase { db in
            let start = try origin(db)
            try db.transaction { txn in
                let a = txn.collection("a", in: "bank")
                try a.insertOne(["_id": 1])
                try a.insertOne(["_id": 2])
            }
            #expect(throws: Error.self) {
                try db.transaction { txn in
                    try txn.collection("a", in: "bank").insertOne(["_id": 3])
                    throw OsmanthusError(.badValue, "abort")
                }
            }
            let ev = try events(db, .cluster, ChangeStreamOptions(resumeAfter: start))
            #expect(ev.compactMap { $0.documentKey?["_id"] } == [1, 2])
        }
    }

    @Test func waitingConsumerIsWokenByACommitAndCanBeCancelled() async throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "app")
        let stream = try c.changes()
        let consumer = Task { () -> [BSONValue] in
            var got: [BSONValue] = []
            for try await event in stream {
                got.append(event.documentKey?["_id"] ?? .null)
                if got.count == 3 { break }
            }
            return got
        }
        for i in 1...3 { try await c.insertOne(["_id": .int32(Int32(i))]) }
        #expect(try await consumer.value == [1, 2, 3])

        // A consumer waiting with nothing to read ends with CancellationError when cancelled.
        let idle = Task {
            var it = try db.changes(.database("app")).makeAsyncIterator()
            return try await it.next()
        }
        idle.cancel()
        await #expect(throws: CancellationError.self) { _ = try await idle.value }
        try db.close()
    }

    @Test func iteratorTokenResumesAfterTheLastEventReturnedNotTheLastRead() async throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "app")
        var it = try c.changes().makeAsyncIterator()
        let before = it.resumeToken
        try await c.insertMany([["_id": 1], ["_id": 2], ["_id": 3]])
        // The three events are read in one batch; only the first is returned.
        #expect(try await it.next()?.documentKey == ["_id": 1])
        let token = it.resumeToken
        let rest = try events(db, .collection(database: "app", name: "c"), ChangeStreamOptions(resumeAfter: token))
        #expect(rest.compactMap { $0.documentKey?["_id"] } == [2, 3])
        let all = try events(db, .collection(database: "app", name: "c"), ChangeStreamOptions(resumeAfter: before))
        #expect(all.count == 3)
        try db.close()
    }

    @Test func historySurvivesRestart() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var db = try Database.open(at: dir.path)
        let start = try origin(db)
        try db.collection("c", in: "app").insertOne(["_id": 1])
        try db.close()
        db = try Database.open(at: dir.path)
        try db.collection("c", in: "app").insertOne(["_id": 2])
        let ev = try events(db, .cluster, ChangeStreamOptions(resumeAfter: start))
        #expect(ev.compactMap { $0.documentKey?["_id"] } == [1, 2])
        try db.close()
    }

    @Test func changeLogOffRefusesStreams() throws {
        var options = DatabaseOptions()
        options.changeLog = false
        try withDatabase(options) { db in
            try db.collection("c", in: "app").insertOne(["_id": 1])
            #expect { _ = try db.changes() } throws: { Self.code($0) == 40573 }
        }
    }
}
