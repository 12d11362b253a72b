import OsmanthusBSON
import Testing

@testable import Osmanthus

/// A scan of `{_id: {$gte: s, $lte: t}}` with strings skips the filter (the key range is
/// exactly the matches); it must return what the same condition returns through a plain
/// collection scan that evaluates it on every document.
struct IdRangeScanTests {
    @Test func exactStringRangesAgreeWithFilteredScansOnRandomIds() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        var rng = SplitMix64(seed: 0x5EED_0006)
        // Short strings over a small alphabet with NULs and a multi-byte character, so
        // prefixes, escapes and byte order all come up; other types around them.
        let alphabet: [String] = ["", "a", "b", "\0", "é", "ab", "a\0"]
        func text(_ rng: inout SplitMix64) -> String {
            (0..<Int(rng.next() % 4)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
        }
        var ids = Set<String>()
        for _ in 0..<150 { ids.insert(text(&rng)) }
        for id in ids { try c.insertOne(["_id": .string(id), "v": .int32(Int32(rng.next() % 10))]) }
        for i in 0..<10 { try c.insertOne(["_id": .int32(Int32(i))]) }
        try c.insertOne(["_id": .symbol("bz")])  // same bracket and key encoding as strings
        try c.insertOne(["_id": .objectId(ObjectId())])

        var nonEmpty = 0
        for step in 0..<300 {
            var ops = Document()
            switch rng.next() % 3 {
            case 0: ops.append("$gte", .string(text(&rng)))
            case 1: ops.append("$lte", .string(text(&rng)))
            default:
                ops.append("$gte", .string(text(&rng)))
                ops.append("$lte", .string(text(&rng)))
            }
            let exact: Document = ["_id": .document(ops)]
            #expect(Collection.idRangeIsExact(try Filter(exact)))
            // Under `$and` the key range is not used: a full scan evaluating the filter.
            let general: Document = ["$and": [.document(exact)]]
            let limit = Int(rng.next() % 4) * 10
            let a = try c.find(exact, options: FindOptions(limit: limit)).all()
            let b = try c.find(general, options: FindOptions(limit: limit)).all()
            #expect(a == b, "step \(step): \(exact) limit \(limit)")
            if !a.isEmpty { nonEmpty += 1 }
        }
        #expect(nonEmpty > 100)
        try db.close()
    }

    @Test func onlyStringGteAndLteBoundsAreExact() throws {
        let exact: [Document] = [
            ["_id": ["$gte": "a"]], ["_id": ["$lte": "a"]], ["_id": ["$gte": "a", "$lte": "b"]],
        ]
        let filtered: [Document] = [
            ["_id": ["$gt": "a"]], ["_id": ["$lt": "a"]], ["_id": ["$gte": 1]], ["_id": ["$gte": "a", "$lt": "b"]],
            ["_id": ["$gte": "a"], "v": 1], ["_id": "a"], ["v": ["$gte": "a"]],
            ["_id": .document(Document([("$gte", .string("a")), ("$gte", .string("b"))]))],
        ]
        for f in exact { #expect(Collection.idRangeIsExact(try Filter(f)), "\(f)") }
        for f in filtered { #expect(!Collection.idRangeIsExact(try Filter(f)), "\(f)") }
    }
}
