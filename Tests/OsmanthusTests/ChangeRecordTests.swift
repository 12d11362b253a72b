import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

struct ChangeRecordTests {
    /// SPEC.md §16.6: the insert of {_id: 1, qty: 2} into shop.orders at 1_700_000_000_123 ms.
    @Test func insertRecordIsTheSpecsWorkedExampleByteForByte() throws {
        var insert = ChangeRecord(operation: .insert, database: "shop", collection: "orders", wallMillis: 1_700_000_000_123)
        insert.documentKey = ["_id": .int32(1)]
        insert.fullDocument = ["_id": .int32(1), "qty": .int32(2)]
        let expected: [UInt8] =
            [0x02, 0x01, 0x0D, 0xFF, 0x7B, 0x68, 0xE5, 0xCF, 0x8B, 0x01, 0x00, 0x00]  // version, insert, flags, marker, wall
            + [0x04] + Array("shop".utf8) + [0x06] + Array("orders".utf8)
            + [0x0E, 0, 0, 0, 0x10, 0x5F, 0x69, 0x64, 0, 1, 0, 0, 0, 0]  // dk {_id: 1}
            + [0x17, 0, 0, 0, 0x10, 0x5F, 0x69, 0x64, 0, 1, 0, 0, 0, 0x10, 0x71, 0x74, 0x79, 0, 2, 0, 0, 0, 0]  // doc
        #expect(insert.encodedBytes() == expected)
        #expect(try ChangeRecord(decoding: expected) == insert)
        let summary = try ChangeRecord.Summary(decoding: expected)
        #expect(summary == ChangeRecord.Summary(.insert, "shop", "orders", 1_700_000_000_123))
    }

    @Test func everyFieldSurvivesEncodingAndDecoding() throws {
        var update = ChangeRecord(operation: .update, database: "shop", collection: "orders", wallMillis: 1_700_000_000_123)
        update.engineKey = [0x10, 0, 0, 0, 1, 0x10, 0x80]
        update.documentKey = ["_id": 1]
        update.fullDocument = ["_id": 1, "qty": 3, "name": "é"]
        update.preImage = ["_id": 1, "qty": 2]
        update.updateDescription = UpdateDescription.diff(["_id": 1, "qty": 2], ["_id": 1, "qty": 3, "name": "é"])
        var rename = ChangeRecord(operation: .rename, database: "a", collection: "b", wallMillis: 5)
        rename.toDatabase = "c"
        rename.toCollection = "d"
        let dropDatabase = ChangeRecord(operation: .dropDatabase, database: "a", collection: nil, wallMillis: -6)
        for record in [update, rename, dropDatabase] {
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
    }
}
