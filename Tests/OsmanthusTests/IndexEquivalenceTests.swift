import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Every query returns the same documents with and without each index: random documents
/// (arrays, missing fields, mixed types, nulls) and random filters and sorts, answered by a
/// collection scan (hint `$natural`), by the planner with the indexes, and hinted to each index.
struct IndexEquivalenceTests {
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
    }

    static func scalar(_ r: inout Random) -> BSONValue {
        switch r.int(9) {
        case 0: .null
        case 1: .int32(Int32(r.int(10)))
        case 2: .int64(Int64(r.int(10)))
        case 3: .double(Double(r.int(20)) / 2)
        case 4: .string(["a", "b", "c", "ab", ""][r.int(5)])
        case 5: .bool(r.chance(50))
        case 6: .datetime(Int64(r.int(5)) * 1000)
        case 7: .document(["x": .int32(Int32(r.int(3)))])
        default: .int32(Int32(r.int(10)))
        }
    }

    static func document(_ r: inout Random, id: Int) -> Document {
        var d: Document = ["_id": .int32(Int32(id))]
        if !r.chance(15) {  // only `a` holds arrays (compound indexes allow one array field)
            d.append("a", r.chance(30) ? .array((0..<r.int(4)).map { _ in scalar(&r) }) : scalar(&r))
        }
        if !r.chance(15) { d.append("b", scalar(&r)) }
        if !r.chance(15) { d.append("c", .int32(Int32(r.int(6)))) }
        if r.chance(50) { d.append("n", .document(["x": scalar(&r)])) }
        return d
    }

    static func condition(_ r: inout Random, _ field: String) -> BSONValue {
        let v = scalar(&r)
        switch r.int(8) {
        case 0: return v
        case 1: return ["$gt": v]
        case 2: return ["$gte": v, "$lt": scalar(&r)]
        case 3: return ["$lte": v]
        case 4: return ["$in": .array([v, scalar(&r)])]
        case 5: return ["$lt": v]
        case 6: return ["$exists": .bool(r.chance(50))]
        default: return ["$ne": v]
        }
    }

    static func filter(_ r: inout Random) -> Document {
        let fields = ["a", "b", "c", "n.x"]
        var f = Document()
        for field in fields where r.chance(40) { f.append(field, condition(&r, field)) }
        if r.chance(10) { f = ["$or": [.document(f), ["c": .int32(Int32(r.int(6)))]]] }
        return f
    }

    static func sort(_ r: inout Random) -> Document? {
        guard r.chance(50) else { return nil }
        let fields = ["a", "b", "c", "n.x"]
        var s = Document()
        s.append(fields[r.int(4)], .int32(r.chance(50) ? 1 : -1))
        if r.chance(50), let second = fields.filter({ s[$0] == nil }).randomElement() {
            s.append(second, .int32(r.chance(50) ? 1 : -1))
        }
        return s
    }

    static let indexes: [(Document, IndexOptions)] = [
        (["a": 1], IndexOptions()),
        (["b": -1], IndexOptions()),
        (["c": 1, "b": 1], IndexOptions()),
        (["c": -1, "a": 1], IndexOptions()),
        (["n.x": 1], IndexOptions()),
        (["b": 1, "c": -1], IndexOptions(sparse: true)),
        (["c": 1], IndexOptions(name: "partial_c", partialFilterExpression: ["c": ["$gte": 2]])),
    ]

    /// The multiset of results as sorted `_id`s (ids are unique, and documents come from the store).
    func canonical(_ docs: [Document]) -> [String] { docs.map { "\($0["_id"] ?? .null)" }.sorted() }

    @Test(arguments: [11, 12])
    func queriesAgreeWithAndWithoutIndexes(seed: Int) throws {
        var r = Random(state: UInt64(seed))
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        // Half the indexes exist before the documents (maintained on insert), half are built after.
        for (keys, options) in Self.indexes.prefix(3) { try c.createIndex(keys, options: options) }
        try c.insertMany((0..<300).map { Self.document(&r, id: $0) })
        for (keys, options) in Self.indexes.dropFirst(3) { try c.createIndex(keys, options: options) }
        // Updates and deletes move and remove entries.
        for i in 0..<60 {
            let id = BSONValue.int32(Int32(r.int(300)))
            if i % 4 == 0 {
                try c.deleteOne(["_id": id])
            } else {
                let field = ["a", "b", "c"][r.int(3)]
                let value: BSONValue = field == "c" ? .int32(Int32(r.int(6))) : Self.scalar(&r)
                try c.updateOne(["_id": id], ["$set": .document([field: value])])
            }
        }
        let names = try c.listIndexes().compactMap { $0["name"]?.stringValue }.filter { $0 != "_id_" }
        for q in 0..<60 {
            let f = Self.filter(&r)
            let s = Self.sort(&r)
            let context = "seed \(seed) query \(q): filter \(f) sort \(s.map { "\($0)" } ?? "-")"
            let expected = try c.find(f, options: FindOptions(sort: s, hint: ["$natural": 1])).all()
            var runs: [(String, [Document])] = [("planner", try c.find(f, options: FindOptions(sort: s)).all())]
            for name in names where !name.contains("partial") && !name.hasPrefix("b_1_c_-1") {
                runs.append((name, try c.find(f, options: FindOptions(sort: s, hint: .string(name))).all()))
            }
            // count may answer from the index alone (covered).
            #expect(try c.count(f) == expected.count, "count: \(context)")
            for (how, got) in runs {
                #expect(canonical(got) == canonical(expected), "\(how): \(context)")
                if let s, let spec = try? SortSpec(s) {
                    let keys = got.map(spec.sortKey)
                    let ordered = zip(keys, keys.dropFirst()).allSatisfy { spec.compareKeys($0, $1) <= 0 }
                    #expect(ordered, "\(how) out of order: \(context)")
                }
            }
        }
    }
}
