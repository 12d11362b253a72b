import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

struct ChangeRecordTests {
    /// SPEC.md §16.6: the insert of {_id: 1, qty: 2} into shop.orders (collection id 1) at
    /// 1_700_000_000_123 ms, version 4: no `dk`, the reader takes `{_id}` from the document.
    @Test func insertRecordIsTheSpecsWorkedExampleByteForByte() throws {
        var insert = ChangeRecord(operation: .insert, database: "shop", collection: "orders", wallMillis: 1_700_000_000_123)
        insert.collectionId = 1
        insert.documentKey = ["_id": .int32(1)]
        insert.fullDocument = ["_id": .int32(1), "qty": .int32(2)]
        let expected: [UInt8] =
            [0x04, 0x01, 0x09, 0xFF, 0x7B, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0x00, 0x00]  // version, insert, flags, marker, wall
            + [0x01]  // flags2: collection id
            + [0x04] + Array("shop".utf8) + [0x06] + Array("orders".utf8) + [0x01]  // names, collection id 1
            + [0x17, 0, 0, 0, 0x10, 0x5F, 0x69, 0x64, 0, 1, 0, 0, 0, 0x10, 0x71, 0x74, 0x79, 0, 2, 0, 0, 0, 0]  // doc
        #expect(expected.count == 49)
        #expect(insert.encodedBytes() == expected)
        #expect(insert.encodedCount == expected.count)
        #expect(try ChangeRecord(decoding: expected) == insert)
        let summary = try ChangeRecord.Summary(decoding: expected)
        #expect(summary == ChangeRecord.Summary(.insert, "shop", "orders", 1_700_000_000_123))
    }

    /// The same insert as version 2 wrote it (61 bytes, `dk` stored): still read.
    @Test func version2InsertRecordStillDecodes() throws {
        let v2: [UInt8] =
            [0x02, 0x01, 0x0D, 0xFF, 0x7B, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0x00, 0x00]
            + [0x04] + Array("shop".utf8) + [0x06] + Array("orders".utf8)
            + [0x0E, 0, 0, 0, 0x10, 0x5F, 0x69, 0x64, 0, 1, 0, 0, 0, 0]  // dk {_id: 1}
            + [0x17, 0, 0, 0, 0x10, 0x5F, 0x69, 0x64, 0, 1, 0, 0, 0, 0x10, 0x71, 0x74, 0x79, 0, 2, 0, 0, 0, 0]
        var insert = ChangeRecord(operation: .insert, database: "shop", collection: "orders", wallMillis: 1_700_000_000_123)
        insert.documentKey = ["_id": .int32(1)]
        insert.fullDocument = ["_id": .int32(1), "qty": .int32(2)]
        #expect(try ChangeRecord(decoding: v2) == insert)
        #expect(try ChangeRecord(decoding: v2, trusted: false) == insert)
        #expect(try ChangeRecord.Summary(decoding: v2) == insert.summary)
    }

    /// An insert into a collection with a partition key keeps its `{tenant, _id}` key.
    @Test func anInsertKeyOtherThanIdIsStored() throws {
        var insert = ChangeRecord(operation: .insert, database: "a", collection: "b", wallMillis: 9)
        insert.collectionId = 300  // a two-byte varint
        insert.documentKey = ["tenant": "t", "_id": 4]
        insert.fullDocument = ["_id": 4, "tenant": "t"]
        let bytes = insert.encodedBytes()
        #expect(bytes[2] & ChangeLogFormat.Flag.documentKey != 0)
        #expect(bytes.count == insert.encodedCount)
        #expect(try ChangeRecord(decoding: bytes) == insert)
        // An insert without `_id` in its document (none is stored so) reads as `{_id: null}`.
        var bare = ChangeRecord(operation: .insert, database: "a", collection: "b", wallMillis: 9)
        bare.documentKey = ["_id": .null]
        bare.fullDocument = ["x": 1]
        #expect(try ChangeRecord(decoding: bare.encodedBytes()) == bare)
    }

    @Test func everyFieldSurvivesEncodingAndDecoding() throws {
        var update = ChangeRecord(operation: .update, database: "shop", collection: "orders", wallMillis: 1_700_000_000_123)
        update.collectionId = 12
        update.engineKey = [0x10, 0, 0, 0, 1, 0x10, 0x80]
        update.documentKey = ["_id": 1]
        update.fullDocument = ["_id": 1, "qty": 3, "name": "é"]
        update.preImage = ["_id": 1, "qty": 2]
        update.updateDescription = UpdateDescription.diff(["_id": 1, "qty": 2], ["_id": 1, "qty": 3, "name": "é"])
        var rename = ChangeRecord(operation: .rename, database: "a", collection: "b", wallMillis: 5)
        rename.toDatabase = "c"
        rename.toCollection = "d"
        rename.collectionId = UInt32.max
        let dropDatabase = ChangeRecord(operation: .dropDatabase, database: "a", collection: nil, wallMillis: -6)
        var modify = ChangeRecord(operation: .modify, database: "a", collection: "b", wallMillis: 7)
        modify.collectionId = 3
        modify.operationDescription = ["changeStreamPreAndPostImages": ["enabled": true]]
        modify.stateBefore = ["partitionKey": "tenant"]
        for record in [update, rename, dropDatabase, modify] {
            let bytes = record.encodedBytes()
            #expect(try ChangeRecord(decoding: bytes) == record)
            #expect(try ChangeRecord(decoding: bytes, trusted: false) == record)
            #expect(try ChangeRecord.Summary(decoding: bytes) == record.summary)
        }
        #expect(try ChangeRecord(decoding: update.encodedBytes()).updateDescription == [
            "updatedFields": ["qty": 3, "name": "é"], "removedFields": [], "truncatedArrays": [],
        ])
    }

    /// Logs and archives written before version 2 hold one BSON document per record.
    @Test func version1BSONRecordStillDecodes() throws {
        let v1: Document = [
            "op": "rename", "db": "a", "coll": "b", "k": .binary(BSONBinary(subtype: .generic, data: [1, 2])),
            "dk": ["_id": 7], "wall": .datetime(1_700_000_000_123), "doc": ["_id": 7, "x": 1], "pre": ["_id": 7],
            "ud": ["updatedFields": ["x": 1]], "to": ["db": "c", "coll": "d"],
        ]
        let r = try ChangeRecord(decoding: v1.bytes)
        #expect(r.operation == .rename && r.database == "a" && r.collection == "b")
        #expect(r.engineKey == [1, 2])
        #expect(r.documentKey == ["_id": 7])
        #expect(r.wallMillis == 1_700_000_000_123)
        #expect(r.fullDocument == ["_id": 7, "x": 1])
        #expect(r.preImage == ["_id": 7])
        #expect(r.updateDescription == ["updatedFields": ["x": 1]])
        #expect(r.toDatabase == "c" && r.toCollection == "d")
        #expect(try ChangeRecord.Summary(decoding: v1.bytes) == ChangeRecord.Summary(.rename, "a", "b", 1_700_000_000_123))
    }

    @Test func truncatedOrUnknownRecordsAreRefused() throws {
        var insert = ChangeRecord(operation: .insert, database: "shop", collection: "orders", wallMillis: 1)
        insert.documentKey = ["_id": 1]
        insert.fullDocument = ["_id": 1]
        let bytes = insert.encodedBytes()
        for cut in [bytes.count - 1, bytes.count - 10, ChangeLogFormat.headerSize + 2] {
            #expect(throws: (any Error).self) { try ChangeRecord(decoding: Array(bytes[0..<cut])) }
        }
        var unknown = bytes
        unknown[1] = 99
        #expect(throws: (any Error).self) { try ChangeRecord(decoding: unknown) }
        #expect(throws: (any Error).self) { try ChangeRecord(decoding: bytes + [0]) }
        // An unknown flags2 bit, or a collection id without a collection name, is damage.
        var unknownFlag2 = bytes
        unknownFlag2[12] |= 0x80
        #expect(throws: (any Error).self) { try ChangeRecord(decoding: unknownFlag2) }
        var dropDatabase = ChangeRecord(operation: .dropDatabase, database: "a", collection: nil, wallMillis: 1)
        dropDatabase.collectionId = 5  // not written without a collection
        var idWithoutName = dropDatabase.encodedBytes()
        #expect(try ChangeRecord(decoding: idWithoutName).collectionId == nil)
        idWithoutName[12] |= ChangeLogFormat.Flag2.collectionId
        idWithoutName.append(5)
        #expect(throws: (any Error).self) { try ChangeRecord(decoding: idWithoutName) }
    }
}

/// The per-commit byte accounting (`ChangeLog.Appended`): one database inline, others after.
struct ChangeLogAppendedTests {
    @Test func bytesAreSummedPerDatabaseInFirstSeenOrder() {
        var appended = ChangeLog.Appended()
        #expect(appended.isEmpty)
        #expect(appended.bytes.isEmpty)
        appended.add("a", 10)
        #expect(!appended.isEmpty)
        appended.add("a", 5)
        appended.add("b", 7)
        appended.add("b", 1)
        appended.add("a", 2)
        appended.add("c", 3)
        #expect(appended.bytes.map(\.database) == ["a", "b", "c"])
        #expect(appended.bytes.map(\.bytes) == [17, 8, 3])
        var seen: [String: Int64] = [:]
        appended.forEach { seen[$0, default: 0] += $1 }
        #expect(seen == ["a": 17, "b": 8, "c": 3])
    }
}

/// The per-database byte counts kept across commits (`ChangeLog.State`): the database of the
/// last commits is counted apart (`hotBytes`) until something reads the counts.
struct ChangeLogByteAccountingTests {
    @Test func hotDatabaseBytesSettleToTheSameTotalsAsADictionary() {
        var rng = SplitMix(seed: 0xb17e_5acc)
        var state = ChangeLog.State()
        var model: [String: Int64] = [:]
        let names = ["a", "b", "orders-database-with-a-long-name", ""]
        for step in 0..<2_000 {
            // Long runs of one database with switches between them, as commits come.
            let name = names[Int(rng.next() % 8 == 0 ? rng.next() % UInt64(names.count) : 0)]
            let n = Int64(1 + rng.next() % 500)
            state.addBytes(n, of: name)
            model[name, default: 0] += n
            if rng.next() % 100 == 0 {
                state.settle()
                #expect(state.hotBytes == 0, "step \(step)")
                #expect(state.databases.mapValues(\.bytes) == model, "step \(step)")
            }
        }
        state.settle()
        #expect(state.databases.mapValues(\.bytes) == model)
    }

    /// Through the database: a byte limit trims as before, whichever database wrote last.
    @Test func byteRetentionTrimsEachDatabaseAfterInterleavedCommits() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let a = db.collection("c", in: "one")
        let b = db.collection("c", in: "two")
        for i in 0..<30 {
            try a.insertOne(["_id": .int32(Int32(i)), "pad": .string(String(repeating: "x", count: 100))])
            if i % 3 == 0 { try b.insertOne(["_id": .int32(Int32(i))]) }
        }
        try db.setChangeLogRetention(ChangeLogRetention(maxAgeSeconds: 86_400, maxBytes: 1_000), of: "one")
        let deleted = try db.trimChangeLog()
        // Each of one's records is over 100 bytes: 30 of them exceed 1000 bytes; two's all stay.
        #expect(deleted > 0)
        var ones = 0
        var twos = 0
        let it = db.storage.makeIterator()
        it.seek(ChangeLogFormat.recordPrefix)
        while it.isValid, it.key.first == ChangeLogFormat.recordPrefix[0] {
            let record = try ChangeRecord.Summary(decoding: it.value)
            if record.database == "one" { ones += 1 } else if record.database == "two" { twos += 1 }
            it.next()
        }
        #expect(ones < 10 && ones > 0)
        #expect(twos == 11)  // its 10 inserts and the create record of its implicit creation
    }
}
