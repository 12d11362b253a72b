import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

/// Collection UUIDs (SPEC.md §11 `CollectionUUID`) and the change-event fields that carry them:
/// `collectionUUID` (expanded events only, as MongoDB 6.0) and modify's `stateBeforeChange`.
struct CollectionUUIDTests {
    func events(_ db: Database, from origin: Document, expanded: Bool = true) throws -> [ChangeEvent] {
        var reader = try db.changeStreamReader(
            .cluster, options: ChangeStreamOptions(resumeAfter: origin, showExpandedEvents: expanded))
        var all: [ChangeEvent] = []
        while true {
            let batch = try reader.poll(limit: 4)
            if batch.isEmpty { return all }
            all += batch
        }
    }

    func uuid(_ db: Database, _ name: String, in database: String) throws -> BSONValue? {
        try db.listCollections(in: database).first { $0.name == name }?.uuid
    }

    @Test func eventsNameTheirCollectionsUUIDOnlyWithExpandedEvents() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        let a = db.collection("a", in: "app")
        try a.insertOne(["_id": 1])
        try a.updateOne(["_id": 1], ["$set": ["x": 1]])
        try a.deleteOne(["_id": 1])
        try db.collection("b", in: "app").insertOne(["_id": 2])
        let uuidA = try #require(try uuid(db, "a", in: "app"))
        let uuidB = try #require(try uuid(db, "b", in: "app"))
        guard case .binary(let binary) = uuidA else {
            Issue.record("collection UUID is \(uuidA), not binary")
            return
        }
        #expect(binary.subtype == .uuid && binary.data.count == 16)
        #expect(uuidA != uuidB)

        let expanded = try events(db, from: origin)
        #expect(expanded.map(\.operationType) == [.create, .insert, .update, .delete, .create, .insert])
        #expect(expanded.prefix(4).map(\.collectionUUID) == Array(repeating: uuidA, count: 4))
        #expect(expanded.suffix(2).map(\.collectionUUID) == [uuidB, uuidB])
        // MongoDB's order: after wallTime, before the event's own fields.
        #expect(Array(expanded[1].document.keys) == [
            "_id", "operationType", "clusterTime", "wallTime", "collectionUUID", "fullDocument", "ns", "documentKey",
        ])
        let plain = try events(db, from: origin, expanded: false)
        #expect(plain.count == 4)
        #expect(plain.allSatisfy { $0.collectionUUID == nil })
    }

    @Test func theUUIDSurvivesReopenAndRenameAndANewCollectionGetsANewOne() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var db = try Database.open(at: dir.path)
        try db.collection("a", in: "app").insertOne(["_id": 1])
        let first = try #require(try uuid(db, "a", in: "app"))
        try db.close()
        db = try Database.open(at: dir.path)
        #expect(try uuid(db, "a", in: "app") == first)
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        try db.renameCollection("a", in: "app", to: "r", in: "app")
        #expect(try uuid(db, "r", in: "app") == first)
        try db.collection("a", in: "app").insertOne(["_id": 1])
        let second = try #require(try uuid(db, "a", in: "app"))
        #expect(second != first)
        try db.dropCollection("r", in: "app")
        let seen = try events(db, from: origin)
        #expect(seen.map(\.operationType) == [.rename, .create, .insert, .drop])
        // The drop of a collection no longer in the catalog still names its UUID.
        #expect(seen.map(\.collectionUUID) == [first, second, second, first])
        try db.close()
    }

    /// A directory written before collection UUIDs has no seed: open writes one, once, so the
    /// UUIDs of its existing collections are fixed from then on.
    @Test func aDirectoryWithoutASeedGetsOneThatStays() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var db = try Database.open(at: dir.path)
        #expect(try db.engine.get(KeyFormat.collectionUUIDSeedKey) == nil)  // nothing written yet
        try db.collection("a", in: "app").insertOne(["_id": 1])
        #expect(try db.engine.get(KeyFormat.collectionUUIDSeedKey)?.count == CollectionUUID.seedSize)
        try db.engine.delete(KeyFormat.collectionUUIDSeedKey)
        try db.close()
        db = try Database.open(at: dir.path)
        let assigned = try #require(try uuid(db, "a", in: "app"))
        #expect(try db.engine.get(KeyFormat.collectionUUIDSeedKey)?.count == CollectionUUID.seedSize)
        try db.close()
        db = try Database.open(at: dir.path)
        #expect(try uuid(db, "a", in: "app") == assigned)
        try db.close()
    }

    @Test func distinctIdsNeverShareAUUID() {
        var rng = SplitMix(seed: 0xC011_EC71)
        for round in 0..<50 {
            let seed = (0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var seen = Set<[UInt8]>()
            for id in UInt32(1)...200 {
                let bytes = CollectionUUID.bytes(seed: seed, id: id)
                #expect(bytes[6] >> 4 == 4 && bytes[8] >> 6 == 2, "seed round \(round)")  // version 4, RFC 4122 variant
                #expect(seen.insert(bytes).inserted, "seed round \(round), id \(id)")
            }
        }
    }

    @Test func modifyEventsCarryTheStateBeforeTheChange() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        try db.createCollection("p", in: "app", options: CollectionOptions(partitionKey: "tenant", partitions: 2))
        try db.setChangeStreamPreAndPostImages(true, for: "p", in: "app")
        try db.setChangeStreamPreAndPostImages(false, for: "p", in: "app")
        let id = try #require(try uuid(db, "p", in: "app"))
        let modifies = try events(db, from: origin).filter { $0.operationType == .modify }
        #expect(modifies.count == 2)
        #expect(modifies.map(\.operationDescription) == [
            ["changeStreamPreAndPostImages": ["enabled": true]], ["changeStreamPreAndPostImages": ["enabled": false]],
        ])
        #expect(modifies[0].stateBeforeChange == [
            "collectionOptions": ["uuid": id, "partitionKey": "tenant", "partitions": .int32(2)],
        ])
        #expect(modifies[1].stateBeforeChange == [
            "collectionOptions": [
                "uuid": id, "partitionKey": "tenant", "partitions": .int32(2),
                "changeStreamPreAndPostImages": ["enabled": true],
            ],
        ])
        #expect(Array(modifies[0].document.keys) == [
            "_id", "operationType", "clusterTime", "wallTime", "collectionUUID", "ns", "operationDescription",
            "stateBeforeChange",
        ])
    }
}
