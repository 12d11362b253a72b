import OsmanthusBSON
import Testing

@testable import Osmanthus

/// The shortcuts of the single-document write path must agree with the general ones: the
/// per-Collection catalog entry with a fresh catalog lookup after every kind of DDL,
/// `Filter.equality(at:)` with `Filter.equalities`, and the point read of writes by `_id`
/// with a planned read of the same filter.
struct WriteFastPathTests {
    @Test func cachedEntryFollowsDropCreateRenameAndCollMod() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        #expect(c.entry == nil)
        try c.insertOne(["_id": 1])
        let first = try #require(c.entry)
        #expect(first.id == db.catalog.entry("t", "c")?.id)

        // Dropped through the database, not through this object: it must stop seeing it.
        #expect(try db.dropCollection("c", in: "t"))
        #expect(c.entry == nil)
        #expect(try c.count() == 0)

        // Created again with other options: a new id and the options are seen at once.
        try db.createCollection("c", in: "t", options: CollectionOptions(partitionKey: "p"))
        let second = try #require(c.entry)
        #expect(second.id != first.id)
        #expect(second.options.partitionKey == "p")
        try c.insertOne(["_id": 2, "p": "x"])
        #expect(try c.find().all().map { $0["_id"] } == [.int32(2)])

        // Renamed away: this name is gone, the other name's object sees the same entry.
        let d = db.collection("d", in: "t")
        #expect(d.entry == nil)
        try db.renameCollection("c", in: "t", to: "d", in: "t")
        #expect(c.entry == nil)
        #expect(d.entry?.id == second.id)
        #expect(try d.count() == 1)

        // collMod rewrites the entry in place.
        try db.setChangeStreamPreAndPostImages(true, for: "d", in: "t")
        #expect(d.entry?.options.changeStreamPreAndPostImages == true)
        #expect(d.entry?.options.changeStreamPreAndPostImages == db.catalog.entry("t", "d")?.options.changeStreamPreAndPostImages)
        try db.close()
    }

    @Test func primaryKeysAreTheDocumentPrefixThenTheEncodedId() throws {
        var rng = SplitMix64(seed: 0x5EED_0007)
        let values: [BSONValue] = [
            .string(""), .string("user123"), .string(String(repeating: "x", count: 100)), .string("a\0b"), .int32(-5),
            .int64(1 << 60), .double(2.5), .objectId(ObjectId()), .bool(true), .null, .document(["a": 1]),
        ]
        for _ in 0..<200 {
            let id = UInt32(truncatingIfNeeded: rng.next())
            let entry = CatalogEntry(database: "d", name: "c", id: id, options: CollectionOptions(), created: 0)
            let value = values[Int(rng.next() % UInt64(values.count))]
            let expected = entry.documentPrefix + KeyEncoder.encode(value)
            #expect(PrimaryKey.key(id: value, in: entry) == expected)
            #expect(try PrimaryKey.key(for: ["_id": value, "x": 1], in: entry) == expected)
        }
    }

    /// Random filters of equalities, `$eq`, one-value `$in`, ranges, `$and`, one-branch `$or`
    /// and dotted paths, with repeated paths: the first equality wins in both.
    @Test func equalityAtAgreesWithEqualitiesOnRandomFilters() throws {
        var rng = SplitMix64(seed: 0x5EED_0003)
        let paths = ["_id", "a", "a.b", "b"]
        func value(_ rng: inout SplitMix64) -> BSONValue {
            switch rng.next() % 4 {
            case 0: .int32(Int32(rng.next() % 5))
            case 1: .string("s\(rng.next() % 3)")
            case 2: .double(Double(rng.next() % 3))
            default: .null
            }
        }
        func condition(_ rng: inout SplitMix64, depth: Int) -> Document {
            var d = Document()
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let path = paths[Int(rng.next() % UInt64(paths.count))]
                switch rng.next() % 7 {
                case 0: d.append(path, value(&rng))
                case 1: d.append(path, ["$eq": value(&rng)])
                case 2: d.append(path, ["$in": [value(&rng)]])
                case 3: d.append(path, ["$in": [value(&rng), value(&rng)]])
                case 4: d.append(path, ["$gte": value(&rng)])
                case 5 where depth < 2:
                    d.append("$and", .array([.document(condition(&rng, depth: depth + 1)), .document(condition(&rng, depth: depth + 1))]))
                case 6 where depth < 2:
                    let branches = 1 + Int(rng.next() % 2)
                    d.append("$or", .array((0..<branches).map { _ in .document(condition(&rng, depth: depth + 1)) }))
                default: d.append(path, value(&rng))
                }
            }
            return d
        }
        var compared = 0
        for _ in 0..<500 {
            let spec = condition(&rng, depth: 0)
            guard let filter = try? Filter(spec) else { continue }
            let all = filter.equalities
            for path in paths + ["c", "a.b.c"] {
                #expect(filter.equality(at: path) == all[path], "\(spec) at \(path)")
                if all[path] != nil { compared += 1 }
            }
        }
        #expect(compared > 200)
    }

    /// Updates and deletes by `_id` (with extra conditions that may or may not hold) read the
    /// point directly; the same writes through a key-range scan (`$gte` and `$lte` the same
    /// integer: the same documents, but not a key lookup) must leave the same documents and
    /// report the same counts.
    @Test func pointWritesAgreeWithScannedWritesOnRandomOperations() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let point = db.collection("point", in: "t")
        let scanned = db.collection("scanned", in: "t")
        var rng = SplitMix64(seed: 0x5EED_0004)
        for i in 0..<40 {
            let doc: Document = ["_id": .int32(Int32(i)), "n": .int32(Int32(rng.next() % 4)), "s": "x"]
            try point.insertOne(doc)
            try scanned.insertOne(doc)
        }
        for step in 0..<400 {
            let id = BSONValue.int32(Int32(rng.next() % 45))  // some absent
            var extra = Document()
            if rng.next() % 2 == 0 { extra.append("n", .int32(Int32(rng.next() % 4))) }
            var pointFilter: Document = ["_id": id]
            var scanFilter: Document = ["_id": ["$gte": id, "$lte": id]]
            for (k, v) in extra {
                pointFilter.append(k, v)
                scanFilter.append(k, v)
            }
            let p = try Filter(pointFilter)
            let s = try Filter(scanFilter)
            let pointEntry = try #require(point.entry)
            let scannedEntry = try #require(scanned.entry)
            guard case .point = point.access(p, pointEntry) else {
                Issue.record("\(pointFilter) is not a point access")
                return
            }
            guard case .range = scanned.access(s, scannedEntry) else {
                Issue.record("\(scanFilter) is not a key range")
                return
            }
            switch rng.next() % 5 {
            case 0:
                #expect(try point.deleteOne(pointFilter) == scanned.deleteOne(scanFilter), "step \(step)")
            case 1:
                let update: Document = ["$inc": ["n": 1], "$set": ["s": .string("u\(step)")]]
                let a = try point.updateOne(pointFilter, update)
                let b = try scanned.updateOne(scanFilter, update)
                #expect(a.matchedCount == b.matchedCount && a.modifiedCount == b.modifiedCount, "step \(step)")
            case 2:
                let options = FindAndModifyOptions(update: ["$set": ["s": "m"]], returnNew: true)
                let a = try point.findAndModify(pointFilter, options: options)
                let b = try scanned.findAndModify(scanFilter, options: options)
                #expect(a.value == b.value, "step \(step)")
            case 3:
                let a = try point.replaceOne(pointFilter, ["n": 9, "s": "r"])
                let b = try scanned.replaceOne(scanFilter, ["n": 9, "s": "r"])
                #expect(a.matchedCount == b.matchedCount, "step \(step)")
            default:
                let update: Document = ["$set": ["s": "same"]]  // often no change at all
                let a = try point.updateOne(pointFilter, update)
                let b = try scanned.updateOne(scanFilter, update)
                #expect(a.modifiedCount == b.modifiedCount, "step \(step)")
            }
        }
        #expect(try point.find().all() == scanned.find().all())
        #expect(try point.count() > 0)
        try db.close()
    }
}
