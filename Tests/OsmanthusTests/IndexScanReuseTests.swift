import OsmanthusBSON
import Testing

@testable import Osmanthus
@testable import OsmanthusStorage

/// Index queries hand their engine iterator back when done and the next query reuses it
/// (`IteratorPool`), and cursors read each document through a key built on the stack: answers
/// equal to a brute-force model while documents are inserted, overwritten and deleted, the
/// memtable is flushed and the tables compacted between queries, and cursors stay open across
/// writes (each sees its own snapshot).
struct IndexScanReuseTests {
    typealias Random = IndexEquivalenceTests.Random

    static func document(_ id: Int, _ r: inout Random) -> Document {
        ["_id": .int32(Int32(id)), "name": .string("n\(r.int(60))"), "age": .int32(Int32(r.int(30))),
         "city": .string(["A", "B", "C"][r.int(3)])]
    }

    @Test(arguments: [7, 8, 9])
    func reusedIteratorsAnswerAsTheModel(seed: Int) throws {
        var r = Random(state: UInt64(seed))
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        var model: [Int: Document] = [:]
        for id in 0..<300 { model[id] = Self.document(id, &r) }
        try c.insertMany(model.keys.sorted().compactMap { model[$0] })
        try c.createIndex(["name": 1])
        try c.createIndex(["city": 1, "age": 1])
        // Open cursors with the answers they must give (their snapshot's).
        var open: [(Cursor, [String], Bool, String)] = []
        var reused = 0
        for q in 0..<250 {
            switch r.int(12) {
            case 0: try db.storage.flush()
            case 1: if r.chance(30) { try db.storage.compactRange() }
            case 2, 3, 4:
                for _ in 0..<(1 + r.int(8)) {
                    let id = r.int(400)
                    if r.chance(30) {
                        try c.deleteOne(["_id": .int32(Int32(id))])
                        model[id] = nil
                    } else {
                        let doc = Self.document(id, &r)
                        try c.replaceOne(["_id": .int32(Int32(id))], doc, upsert: true)
                        model[id] = doc
                    }
                }
            default: break
            }
            let filter: Document
            var options = FindOptions()
            switch r.int(4) {
            case 0: filter = ["name": .string("n\(r.int(60))")]
            case 1:
                let lo = r.int(60)
                filter = ["name": ["$gte": .string("n\(lo)"), "$lt": .string("n\(lo + r.int(20))")]]
            case 2:
                filter = ["city": .string(["A", "B", "C"][r.int(3)])]
                options = FindOptions(sort: ["age": -1, "_id": -1], limit: 1 + r.int(30))
            default: filter = ["city": .string(["A", "B", "C"][r.int(3)]), "age": ["$gte": .int32(Int32(r.int(30)))]]
            }
            let parsed = try Filter(filter)
            var expected = model.values.filter(parsed.matches)
            if options.sort != nil {
                expected.sort { a, b in
                    let (x, y) = (a["age"]?.numericDouble ?? 0, b["age"]?.numericDouble ?? 0)
                    return x != y ? x > y : (a["_id"]?.numericDouble ?? 0) > (b["_id"]?.numericDouble ?? 0)
                }
                expected = Array(expected.prefix(options.limit))
            }
            let want = expected.map { "\($0)" }
            let context = "seed \(seed) query \(q): \(filter)"
            let idle = db.storage.iteratorPool.count
            let cursor = try c.find(filter, options: options)
            if db.storage.iteratorPool.count < idle { reused += 1 }
            if r.chance(20) {
                open.append((cursor, options.sort == nil ? want.sorted() : want, options.sort == nil, context))
            } else {
                let got = try cursor.all().map { "\($0)" }
                #expect((options.sort == nil ? got.sorted() : got) == (options.sort == nil ? want.sorted() : want), "\(context)")
            }
            #expect(try c.count(filter) == model.values.filter(parsed.matches).count, "count: \(context)")
            if open.count > 3 || (q == 249 && !open.isEmpty) {
                for (cursor, want, unordered, context) in open {
                    let got = try cursor.all().map { "\($0)" }
                    #expect((unordered ? got.sorted() : got) == want, "open cursor: \(context)")
                }
                open.removeAll()
            }
        }
        #expect(reused > 50, "seed \(seed): \(reused) queries reused an iterator")
    }
}
