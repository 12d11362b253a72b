import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Primary-key scans read documents ahead in batches that share one buffer (`ScanSource`), and
/// an exact string `_id` range skips the planner (`Collection.idRangeCursor`). Both are checked
/// against a model of the collection: same documents, same order, for every skip and limit,
/// batch boundaries (documents of mixed sizes, some over a batch), and documents that outlive
/// their cursor or are edited.
struct ScanSourceTests {
    /// A document whose size varies widely: most small, some around a batch, a few over it.
    static func document(_ id: String, _ rng: inout SplitMix64) -> Document {
        let sizes = [0, 10, 200, 1_000, 5_000, ScanSource.batchBytes - 100, ScanSource.batchBytes + 3_000]
        let pick = Int(rng.next() % 20)
        let size = pick < 14 ? sizes[pick % 4] : sizes[4 + pick % 3]
        return ["_id": .string(id), "pad": .string(String(repeating: "x", count: size)), "n": .int64(Int64(rng.next() % 1000))]
    }

    @Test func batchedScansAgreeWithAModelForEverySkipAndLimit() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        let seed: UInt64 = 0x5CA7_0001
        var rng = SplitMix64(seed: seed)
        var model: [String: Document] = [:]
        for i in 0..<300 {
            let id = "k" + String(rng.next() % 100_000)
            let doc = Self.document(id, &rng)
            try c.replaceOne(["_id": .string(id)], doc, upsert: true)
            model[id] = doc
            // Deletes and overwrites leave older entries the scan must skip.
            if i % 7 == 0, let victim = model.keys.sorted().first {
                try c.deleteOne(["_id": .string(victim)])
                model[victim] = nil
            }
        }
        try c.insertOne(["_id": .int32(5)])  // another type bracket: never in a string range
        let sortedIds = model.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for step in 0..<200 {
            let lo = "k" + String(rng.next() % 100_000)
            let hi = "k" + String(rng.next() % 100_000)
            var ops = Document()
            let shape = rng.next() % 3
            if shape != 1 { ops.append("$gte", .string(lo)) }
            if shape != 0 { ops.append("$lte", .string(hi)) }
            let skip = Int(rng.next() % 4) * Int(rng.next() % 5)
            let limit = [0, 1, 2, 5, 40, 1000][Int(rng.next() % 6)]
            let expected = sortedIds.filter { id in
                (shape == 1 || !Array(id.utf8).lexicographicallyPrecedes(Array(lo.utf8)))
                    && (shape == 0 || !Array(hi.utf8).lexicographicallyPrecedes(Array(id.utf8)))
            }.dropFirst(skip).prefix(limit == 0 ? Int.max : limit).compactMap { model[$0] }
            let options = FindOptions(skip: skip, limit: limit)
            let fast = try c.find(["_id": .document(ops)], options: options).all()
            #expect(fast == expected, "seed \(seed) step \(step): \(ops) skip \(skip) limit \(limit)")
            // The general path (planner, filter evaluated) agrees.
            let general = try c.find(["$and": [["_id": .document(ops)]]], options: options).all()
            #expect(general == expected, "seed \(seed) step \(step): $and \(ops)")
        }
        try db.close()
    }

    @Test func documentsOutliveTheirCursorAndEditsStayTheirOwn() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        var rng = SplitMix64(seed: 0x5CA7_0002)
        var originals: [Document] = []
        for i in 0..<60 {
            let doc: Document = ["_id": .string("id\(1000 + i)"), "pad": .string(String(repeating: "y", count: Int(rng.next() % 3000)))]
            try c.insertOne(doc)
            originals.append(doc)
        }
        var got = try c.find(["_id": ["$gte": "id"]]).all()
        #expect(got == originals)
        // Editing one document of a shared batch leaves its neighbours as they were.
        got[3]["pad"] = .string("changed")
        got[4]["extra"] = .int32(1)
        #expect(got[3]["pad"] == .string("changed"))
        #expect(got[2] == originals[2] && got[5] == originals[5])
        #expect(got[4]["extra"] == .int32(1) && got[4]["pad"] == originals[4]["pad"])
        #expect(got[3].bytes.count == got[3].byteCount)
        // One document kept from a cursor dropped half-way still reads whole.
        var kept: Document?
        do {
            let cursor = try c.find(["_id": ["$gte": "id1010"]])
            _ = try cursor.next()
            kept = try cursor.next()
        }
        #expect(kept == originals[11])
        #expect(try kept.map { try Document(bytes: $0.bytes) } == originals[11])
        try db.close()
    }

    @Test func aScanReadsItsSnapshotWhileWritesGoOn() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        for i in 0..<100 { try c.insertOne(["_id": .string("s\(100 + i)"), "v": .int32(Int32(i))]) }
        let cursor = try c.find(["_id": ["$gte": "s150"]], options: FindOptions(limit: 30))
        let first = try cursor.next()
        // Changes after the cursor opened, inside and beyond what it has read ahead.
        for i in 50..<100 { try c.updateOne(["_id": .string("s\(100 + i)")], ["$set": ["v": -1]]) }
        try c.deleteOne(["_id": "s160"])
        try c.insertOne(["_id": "s155x", "v": 0])
        var rest: [Document] = []
        while let d = try cursor.next() { rest.append(d) }
        let seen = [first].compactMap { $0 } + rest
        #expect(seen.compactMap { $0["_id"] } == (150..<180).map { BSONValue.string("s\($0)") })
        #expect(seen.allSatisfy { $0["v"] != .int32(-1) })
    }

    @Test func exactIdRangeBoundsRecognisesOnlyItsShape() {
        let gte = Collection.exactIdRangeBounds(["_id": ["$gte": "a"]])
        #expect(gte != nil && gte?.lower == "a" && gte?.upper == nil)
        let lte = Collection.exactIdRangeBounds(["_id": ["$lte": "b"]])
        #expect(lte != nil && lte?.lower == nil && lte?.upper == "b")
        let both = Collection.exactIdRangeBounds(["_id": ["$gte": "a", "$lte": "b"]])
        #expect(both?.lower == "a" && both?.upper == "b")
        let others: [Document] = [
            ["_id": ["$gt": "a"]], ["_id": ["$gte": 1]], ["_id": ["$gte": "a"], "v": 1], ["_id": "a"],
            ["_id": [:]], ["v": ["$gte": "a"]], [:],
            ["_id": .document(Document([("$gte", .string("a")), ("$gte", .string("b"))]))],
        ]
        for f in others { #expect(Collection.exactIdRangeBounds(f) == nil, "\(f)") }
    }

    @Test func anIndexHoldingIdKeepsTheGeneralPath() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        for i in 0..<20 { try c.insertOne(["_id": .string("i\(10 + i)"), "v": .int32(Int32(i % 3))]) }
        let filter: Document = ["_id": ["$gte": "i15"]]
        #expect(try c.idRangeCursor(filter, options: FindOptions()) != nil)
        #expect(try c.idRangeCursor(filter, options: FindOptions(sort: ["v": 1])) == nil)
        _ = try c.createIndex(["_id": 1, "v": 1])
        #expect(try c.idRangeCursor(filter, options: FindOptions()) == nil)
        #expect(try c.find(filter).all().compactMap { $0["_id"] } == (15..<30).map { BSONValue.string("i\($0)") })
        try db.close()
    }
}
