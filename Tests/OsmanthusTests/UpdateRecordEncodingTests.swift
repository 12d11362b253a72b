import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

/// The update fast path of the change log (`ChangeRecord.encodeUpdate`, `ChangeLog.putUpdate`)
/// against the general encoder (`ChangeLog.record(_:wallMillis:)` then `encode`).
struct UpdateRecordEncodingTests {
    static func randomValue(_ rng: inout SplitMix) -> BSONValue {
        switch rng.next() % 6 {
        case 0: .int32(Int32(truncatingIfNeeded: rng.next()))
        case 1: .string(String(repeating: "v", count: Int(rng.next() % 300)))
        case 2: .double(Double(rng.next() % 1000) / 7)
        case 3: .document(["a": .int64(Int64(rng.next() % 100)), "b": "x"])
        case 4: .array([1, 2, .string("z")])
        default: .bool(rng.next() % 2 == 0)
        }
    }

    @Test func updateFastPathWritesTheGeneralEncodersBytes() throws {
        var rng = SplitMix(seed: 0x0dd_ba11)
        let ids: [BSONValue] = [
            .int32(7), .int64(-3), .string("user00000042"), .string(""), .double(1.5), .bool(true),
            .objectId(ObjectId()), .document(["a": 1, "b": "x"]), .datetime(12345),
        ]
        for round in 0..<300 {
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            var before: Document = ["_id": id]
            for f in 0..<Int(rng.next() % 6) { before.append("f\(f)", Self.randomValue(&rng)) }
            var after = before
            after.set("f\(rng.next() % 8)", Self.randomValue(&rng))
            if rng.next() % 4 == 0 { after.remove("f\(rng.next() % 6)") }
            // Names past 127 bytes take a two-byte varint length.
            let coll = String(repeating: "c", count: 1 + Int(rng.next() % 200))
            let db = "db\(round % 7)" + String(repeating: "d", count: Int(rng.next() % 140))
            let wall = Int64(bitPattern: rng.next())
            let collectionId = UInt32(truncatingIfNeeded: rng.next() >> UInt64(rng.next() % 64))
            let entry = CatalogEntry(database: db, name: coll, id: collectionId, options: CollectionOptions(), created: 0)
            let key = PrimaryKey.key(id: id, in: entry)
            var change = DocumentChange.modify(before, to: after, replacing: false, key: key, in: entry)
            // Half told by the edit (any description), half left to the diff.
            if rng.next() % 2 == 0 { change.updateDescription = UpdateDescription.diff(before, after) }
            let general = ChangeLog.record(change, wallMillis: wall).encodedBytes()

            var batch = WriteBatch()
            batch.put(key, after.bytes)
            let n = ChangeLog.putUpdate(
                database: db, collection: coll, collectionId: collectionId, wallMillis: wall, engineKey: key,
                after: after, description: change.updateDescription ?? UpdateDescription.diff(before, after),
                in: &batch)
            #expect(n == general.count, "seed round \(round)")
            let records = stampedRecords(&batch, at: 500 + UInt64(round))
            #expect(records.count == 2)
            #expect(records.last?.0 == ChangeLogFormat.recordKey(501 + UInt64(round)), "seed round \(round)")
            #expect(records.last?.1 == general, "seed round \(round)")
            if let fast = records.last?.1 {
                let decoded = try ChangeRecord(decoding: fast, trusted: false)
                #expect(decoded == ChangeLog.record(change, wallMillis: wall), "seed round \(round)")
                #expect(decoded.documentKey == ["_id": id])
            }
        }
    }

    @Test func documentWithoutIdTakesTheGeneralRecord() {
        var batch = WriteBatch()
        let n = ChangeLog.putUpdate(
            database: "d", collection: "c", collectionId: 1, wallMillis: 0, engineKey: [1, 2], after: ["x": 1],
            description: ["updatedFields": ["x": 1]], in: &batch)
        #expect(n == nil)
        #expect(batch.count == 0)
    }

    /// Through the database: update events (by `_id` and through a query, each `_id` type, a
    /// collection with pre- and post-images beside one without) read back as the general
    /// record describes them.
    @Test func updateEventsThroughTheDatabase() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        var options = CollectionOptions()
        options.changeStreamPreAndPostImages = true
        let plain = db.collection("plain", in: "app")
        let images = try db.createCollection("images", in: "app", options: options)
        var reader = try db.changeStreamReader(.database("app"), options: ChangeStreamOptions())
        let ids: [BSONValue] = [.int32(1), .string("two"), .objectId(ObjectId()), .document(["k": 4])]
        for c in [plain, images] {
            for id in ids { try c.insertOne(["_id": id, "n": 0, "s": "a"]) }
            for id in ids { try c.updateOne(["_id": id], ["$set": ["s": "b"], "$inc": ["n": 1]]) }
            for id in ids { try c.updateOne(["_id": ["$eq": id]], ["$unset": ["s": ""]]) }
        }
        let events = try reader.poll(limit: 100)
        #expect(events.count == 2 * 3 * ids.count)
        let updates = events.filter { $0.operationType == .update }
        #expect(updates.count == 2 * 2 * ids.count)
        for (i, event) in updates.enumerated() {
            let id = ids[i % ids.count]
            #expect(event.documentKey == ["_id": id])
            let first = (i / ids.count) % 2 == 0
            let expected: Document =
                first
                ? ["updatedFields": ["n": 1, "s": "b"], "removedFields": .array([]), "truncatedArrays": .array([])]
                : ["updatedFields": .document(Document()), "removedFields": ["s"], "truncatedArrays": .array([])]
            #expect(event.updateDescription == expected, "event \(i)")
        }
    }
}
