import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

/// Expanded (catalog) change events: create, createIndexes, dropIndexes, modify (SPEC.md §16.2
/// version 3, §16.5), shown only with `showExpandedEvents`, and replayed by point-in-time restore.
struct CatalogChangeEventsTests {
    func events(_ db: Database, _ scope: ChangeStreamScope, _ options: ChangeStreamOptions) throws -> [ChangeEvent] {
        var reader = try db.changeStreamReader(scope, options: options)
        var all: [ChangeEvent] = []
        while true {
            let batch = try reader.poll(limit: 3)
            if batch.isEmpty { return all }
            all += batch
        }
    }

    @Test func catalogEventsAreShownOnlyWithShowExpandedEvents() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        try db.createCollection("p", in: "app", options: CollectionOptions(partitionKey: "tenant", partitions: 4))
        let c = db.collection("c", in: "app")
        try c.insertOne(["_id": 1, "a": 1])  // creates app.c implicitly
        let name = try c.createIndex(["a": 1], options: IndexOptions(unique: true))
        try db.setChangeStreamPreAndPostImages(true, for: "c", in: "app")
        try c.dropIndex(.string(name))

        let plain = try events(db, .database("app"), ChangeStreamOptions(resumeAfter: origin))
        #expect(plain.map(\.operationType) == [.insert])

        let expanded = try events(
            db, .database("app"), ChangeStreamOptions(resumeAfter: origin, showExpandedEvents: true))
        #expect(expanded.map(\.operationType) == [.create, .create, .insert, .createIndexes, .modify, .dropIndexes])
        let idIndex: Document = ["v": .int32(2), "key": ["_id": .int32(1)], "name": "_id_"]
        #expect(expanded[0].namespace == ["db": "app", "coll": "p"])
        #expect(expanded[0].operationDescription == [
            "idIndex": .document(idIndex), "partitionKey": "tenant", "partitions": .int32(4),
        ])
        #expect(expanded[1].operationDescription == ["idIndex": .document(idIndex)])
        let index: Document = ["v": .int32(2), "key": ["a": .int32(1)], "name": .string(name), "unique": true]
        #expect(expanded[3].operationDescription == ["indexes": [.document(index)]])
        #expect(expanded[3].namespace == ["db": "app", "coll": "c"])
        #expect(expanded[4].operationDescription == ["changeStreamPreAndPostImages": ["enabled": true]])
        #expect(expanded[5].operationDescription == ["indexes": [.document(index)]])
        // MongoDB's field order: _id, operationType, clusterTime, wallTime, collectionUUID, ns,
        // operationDescription.
        #expect(Array(expanded[3].document.keys) == [
            "_id", "operationType", "clusterTime", "wallTime", "collectionUUID", "ns", "operationDescription",
        ])
        // Resuming after an expanded event works like after any other.
        let after = try events(
            db, .collection(database: "app", name: "c"),
            ChangeStreamOptions(resumeAfter: expanded[3].resumeToken, showExpandedEvents: true))
        #expect(after.map(\.operationType) == [.modify, .dropIndexes])
    }

    @Test func aFailedIndexBuildWritesNoCreateIndexesRecord() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let origin = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        let c = db.collection("c", in: "app")
        try c.insertMany([["_id": 1, "a": 1], ["_id": 2, "a": 1]])
        #expect(throws: OsmanthusError.self) { try c.createIndex(["a": 1], options: IndexOptions(unique: true)) }
        let ops = try events(
            db, .collection(database: "app", name: "c"), ChangeStreamOptions(resumeAfter: origin, showExpandedEvents: true)
        ).map(\.operationType)
        #expect(ops == [.create, .insert, .insert])
    }

    @Test func everyRecordIsWrittenAsVersion4AndVersion3StillReads() throws {
        let entry = CatalogEntry(database: "shop", name: "orders", id: 7, options: CollectionOptions(), created: 0)
        let create = ChangeRecord.create(entry, wallMillis: 1_700_000_000_123)
        let bytes = create.encodedBytes()
        #expect(bytes[0] == 4 && bytes[3] == 0xFF)
        #expect(bytes[1] == 8)
        #expect(bytes[2] == ChangeLogFormat.Flag.collection | ChangeLogFormat.Flag.operationDescription)
        #expect(bytes[12] == ChangeLogFormat.Flag2.collectionId)
        #expect(try ChangeRecord(decoding: bytes) == create)
        #expect(try ChangeRecord(decoding: bytes, trusted: false) == create)
        #expect(try ChangeRecord.Summary(decoding: bytes) == create.summary)

        var insert = ChangeRecord(operation: .insert, database: "shop", collection: "orders", wallMillis: 5)
        insert.documentKey = ["_id": 1]
        insert.fullDocument = ["_id": 1, "qty": 2]
        #expect(insert.encodedBytes()[0] == 4)

        // Version 3's layout: the version 4 bytes without flags2 and the collection id.
        var v3 = [UInt8](bytes[0..<12]) + bytes[13..<(13 + 12)] + bytes[(13 + 13)...]
        v3[0] = 3
        var expected = create
        expected.collectionId = nil
        #expect(try ChangeRecord(decoding: v3) == expected)
        #expect(try ChangeRecord.Summary(decoding: v3) == create.summary)
        // An expanded operation or a description under a version 2 header is damage.
        var forged = v3
        forged[0] = 2
        #expect(throws: OsmanthusError.self) { try ChangeRecord(decoding: forged) }
        #expect(throws: OsmanthusError.self) { try ChangeRecord.Summary(decoding: forged) }
    }

    @Test func pointInTimeRestoreRecreatesOptionsAndIndexes() throws {
        let source = TestDirectory()
        let scratch = TestDirectory()
        defer {
            source.remove()
            scratch.remove()
        }
        let repo = scratch.path + "/repo"
        let db = try Database.open(at: source.path)
        let archiver = try ChangeLogArchiver(database: db, repository: repo)
        try db.collection("seed", in: "app").insertOne(["_id": 0])
        try archiver.archiveOnce()
        try BackupRepository(path: repo).create(from: db.engine)

        // After the backup: only the change log knows these.
        try db.createCollection("p", in: "app", options: CollectionOptions(partitionKey: "tenant", partitions: 8))
        let p = db.collection("p", in: "app")
        try p.insertMany([["_id": 1, "tenant": "a", "email": "x"], ["_id": 2, "tenant": "b", "email": "y"]])
        let unique = try p.createIndex(["email": 1], options: IndexOptions(name: "email_u", unique: true))
        let ttl = try p.createIndex(["at": 1], options: IndexOptions(expireAfterSeconds: 3600))
        try p.createIndex(["tenant": -1])
        try p.dropIndex(.document(["tenant": -1]))
        try db.setChangeStreamPreAndPostImages(true, for: "p", in: "app")
        try archiver.archiveOnce()
        let expectedCollections = try db.listCollections(in: "app").map(\.options)
        let expectedIndexes = try p.listIndexes()
        let target = db.engine.latestSequence
        try db.close()

        let restoredDir = scratch.path + "/restored"
        _ = try PointInTimeRestore.restore(repository: repo, to: restoredDir, at: .sequence(target))
        let restored = try Database.open(at: restoredDir)
        defer { try? restored.close() }
        #expect(try restored.listCollections(in: "app").map(\.options) == expectedCollections)
        let rp = restored.collection("p", in: "app")
        #expect(try rp.listIndexes() == expectedIndexes)
        #expect(try rp.listIndexes().compactMap { $0["name"]?.stringValue } == ["_id_", unique, ttl])
        #expect(try rp.find([:], options: FindOptions(sort: ["_id": 1])).all().count == 2)
        // The unique index is real: a duplicate email is refused.
        #expect(throws: OsmanthusError.self) { try rp.insertOne(["_id": 3, "tenant": "c", "email": "x"]) }
    }
}

extension CatalogChangeEventsTests {
    /// SPEC.md §16.2's worked example of a version 3 record (the BSON bytes of `desc` were
    /// produced by Python's bson module, not by this code).
    @Test func createRecordMatchesTheSpecBytes() throws {
        let entry = CatalogEntry(database: "shop", name: "orders", id: 1, options: CollectionOptions(), created: 0)
        let hex = """
            03 08 81 ff 7b 68 e5 cf 8b 01 00 00 04 73 68 6f 70 06 6f 72 64 65 72 73
            3c 00 00 00 03 69 64 49 6e 64 65 78 00 2e 00 00 00 10 76 00 02 00 00 00
            03 6b 65 79 00 0e 00 00 00 10 5f 69 64 00 01 00 00 00 00
            02 6e 61 6d 65 00 05 00 00 00 5f 69 64 5f 00 00 00
            """
        let expected = hex.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
        #expect(expected.count == 84)
        // Version 3 as the previous release wrote it: still read.
        var withoutId = ChangeRecord.create(entry, wallMillis: 1_700_000_000_123)
        withoutId.collectionId = nil
        #expect(try ChangeRecord(decoding: expected) == withoutId)
        // Version 4 (written now): flags2 after the header, the collection id after the names.
        let v4: [UInt8] = [0x04] + expected[1..<12] + [0x01] + expected[12..<24] + [0x01] + expected[24...]
        #expect(v4.count == 86)
        #expect(ChangeRecord.create(entry, wallMillis: 1_700_000_000_123).encodedBytes() == v4)
    }
}

/// The insert fast path (`ChangeRecord.encodeInsert`) against the general encoder.
struct InsertRecordEncodingTests {
    @Test func insertFastPathWritesTheGeneralEncodersBytes() throws {
        var rng = SplitMix(seed: 0x5eed_c4a9)
        let ids: [BSONValue] = [
            .int32(7), .int64(-3), .string("user00000042"), .string(""), .double(1.5), .bool(true),
            .objectId(ObjectId()),
            .document(["a": 1, "b": "x"]), .array([1, 2]), .null,
        ]
        for round in 0..<200 {
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            var doc: Document = ["_id": id]
            for f in 0..<Int(rng.next() % 6) { doc.append("f\(f)", .string(String(repeating: "v", count: Int(rng.next() % 300)))) }
            // Names past 127 bytes take a two-byte varint length.
            let coll = String(repeating: "c", count: 1 + Int(rng.next() % 200))
            let db = "db\(round % 7)"
            let wall = Int64(bitPattern: rng.next())
            let entry = CatalogEntry(database: db, name: coll, id: 1, options: CollectionOptions(), created: 0)
            var record = ChangeRecord(operation: .insert, database: db, collection: coll, wallMillis: wall)
            record.documentKey = ChangeLog.documentKey(doc, entry)
            record.fullDocument = doc
            let collectionId = UInt32(truncatingIfNeeded: rng.next() >> UInt64(rng.next() % 64))
            record.collectionId = collectionId
            var fast: [UInt8] = []
            doc.withUnsafeBytes { bytes in
                ChangeRecord.encodeInsert(
                    database: db, collection: coll, collectionId: collectionId, wallMillis: wall, document: bytes,
                    into: &fast)
            }
            #expect(fast == record.encodedBytes(), "seed round \(round)")
            #expect(fast.count == ChangeRecord.insertCount(
                database: db, collection: coll, collectionId: collectionId, documentCount: doc.byteCount))
            #expect(try ChangeRecord(decoding: fast, trusted: false) == record)
            // What the change log puts in a batch right after the document's put: the head from
            // the stack (names up to about 100 bytes) or the fallback above, spliced with the
            // document, reads as the same bytes under a stamped key.
            var batch = WriteBatch()
            batch.put([1], doc.bytes)
            let n = ChangeLog.putInsert(
                database: db, collection: coll, collectionId: collectionId, wallMillis: wall, document: doc, in: &batch)
            #expect(n == fast.count, "seed round \(round)")
            let records = stampedRecords(&batch, at: 1000 + UInt64(round))
            #expect(records.count == 2)
            #expect(records.last?.0 == ChangeLogFormat.recordKey(1001 + UInt64(round)), "seed round \(round)")
            #expect(records.last?.1 == fast, "seed round \(round)")
            #expect(batch.stampedCount == 1)
        }
    }
}

/// A small seeded generator (the test prints the round on failure).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension InsertRecordEncodingTests {
    /// Through the database: every `_id` type (header lookup or search) gives the same events.
    @Test func insertEventsCarryTheirDocumentAndKeyForEveryIdType() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "app")
        var reader = try db.changeStreamReader(.collection(database: "app", name: "c"), options: ChangeStreamOptions())
        let ids: [BSONValue] = [
            .int32(1), .int64(2), .double(3.5), .string("four"), .objectId(ObjectId()), .document(["k": 5]),
            .array([6]), .bool(true), .null, .datetime(7),
        ]
        var docs: [Document] = []
        for (i, id) in ids.enumerated() where id.arrayValue == nil {  // an array is no valid _id
            docs.append(["_id": id, "n": .int32(Int32(i))])
        }
        try c.insertMany(Array(docs.prefix(4)))
        for d in docs.dropFirst(4) { try c.insertOne(d) }
        let events = try reader.poll(limit: 100)
        #expect(events.count == docs.count)
        for (event, doc) in zip(events, docs) {
            #expect(event.operationType == .insert)
            #expect(event.fullDocument == doc)
            #expect(event.documentKey == ["_id": doc["_id"] ?? .null])
        }
    }
}
