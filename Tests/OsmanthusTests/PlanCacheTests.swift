import OsmanthusBSON
import Testing

@testable import Osmanthus

/// The plan cache per query shape (SPEC.md §11.6): shapes, binding a cached index to new values,
/// replanning a cached plan that does far worse than when it was cached, and answers equal to a
/// brute-force model while indexes come and go.
struct PlanCacheTests {
    typealias Random = IndexEquivalenceTests.Random

    @Test func shapeKeepsPathsOperatorsAndTypesButNotValues() {
        func shape(_ f: Document, sort: Document? = nil, projection: Document? = nil) -> [UInt8] {
            PlanCache.shape(f, sort: sort.flatMap { try? SortSpec($0) }, projection: projection)
        }
        #expect(shape(["a": 1]) == shape(["a": 2]))
        #expect(shape(["a": ["$gte": "x", "$lte": "y"]]) == shape(["a": ["$gte": "p", "$lte": "q"]]))
        #expect(shape(["a": ["$in": [1, 2]]]) == shape(["a": ["$in": [3]]]))
        #expect(shape(["$or": [["a": 1], ["b": "x"]]]) == shape(["$or": [["a": 7], ["b": "y"]]]))
        #expect(shape(["a": 1]) != shape(["a": "1"]))  // types
        #expect(shape(["a": 1]) != shape(["b": 1]))  // paths
        #expect(shape(["a": ["$gt": 1]]) != shape(["a": ["$gte": 1]]))  // operators
        #expect(shape(["a": 1.5]) != shape(["a": .double(.nan)]))  // NaN bounds nothing
        #expect(shape(["$or": [["a": 1], ["b": "x"]]]) != shape(["$or": [["a": 7], ["c": "y"]]]))
        #expect(shape(["a": 1], sort: ["b": 1]) != shape(["a": 1], sort: ["b": -1]))
        #expect(shape(["a": 1], projection: ["a": 1]) != shape(["a": 1]))
    }

    /// `a` is unique below 200 and 1000 above; `b` is 0 below 200 and unique above: which
    /// index is better depends on the values.
    func withTwoSkewedIndexes(_ body: (Database, Collection) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<400).map { i in
            ["_id": .int32(Int32(i)), "a": .int32(Int32(i < 200 ? i : 1000)), "b": .int32(Int32(i < 200 ? 0 : i))]
        })
        try c.createIndex(["a": 1])
        try c.createIndex(["b": 1])
        try body(db, c)
    }

    func cachedIndex(_ db: Database, _ c: Collection, _ filter: Document) throws -> String? {
        let entry = try #require(c.entry)
        let indexes = db.indexCatalog.indexes(of: entry.id).filter { $0.state == .ready }
        let shape = PlanCache.shape(filter, sort: nil, projection: nil)
        return db.planCache.entry(collection: entry.id, shape: shape, indexes: indexes)?.index
    }

    @Test func cachedPlanThatDoesFarWorseIsReplanned() throws {
        try withTwoSkewedIndexes { db, c throws in
            // b_1 finishes its trial in one key: it is cached with its works.
            #expect(try c.find(["a": 1000, "b": 250]).all().map { $0["_id"] } == [.int32(250)])
            #expect(try cachedIndex(db, c, ["a": 0, "b": 0]) == "b_1")
            let before = db.planCache.replans
            // For these values b_1 walks 200 keys for one match: far past 10× its cached works.
            #expect(try c.find(["a": 5, "b": 0]).all().map { $0["_id"] } == [.int32(5)])
            #expect(db.planCache.replans == before + 1)
            #expect(try cachedIndex(db, c, ["a": 0, "b": 0]) == "a_1")
            // And back: a_1 is as bad for a = 1000.
            #expect(try c.find(["a": 1000, "b": 300]).all().map { $0["_id"] } == [.int32(300)])
            #expect(db.planCache.replans == before + 2)
            #expect(try cachedIndex(db, c, ["a": 0, "b": 0]) == "b_1")
            // Values the cached plan suits: no replanning, the same entry.
            #expect(try c.find(["a": 1000, "b": 301]).all().map { $0["_id"] } == [.int32(301)])
            #expect(db.planCache.replans == before + 2)
            // count plans its own shape (it asks for a projection) and is checked the same way.
            #expect(try c.count(["a": 1000, "b": 302]) == 1)
            #expect(try c.count(["a": 5, "b": 0]) == 1)
            #expect(db.planCache.replans == before + 3)
        }
    }

    @Test func aPassingCheckReturnsTheResultsItReadOnce() throws {
        try withTwoSkewedIndexes { db, c throws in
            // a_1 wins in two works (a = 7 is one key); for a = 1000 it needs a key per result,
            // past 10 × 2: replanned, and a_1 wins again, now with about 101 works.
            _ = try c.find(["a": 7, "b": ["$gte": 0]]).all()
            let before = db.planCache.replans
            let all = try c.find(["a": 1000, "b": ["$gte": 200]]).all().compactMap { $0["_id"]?.exactInt64 }
            #expect(all.sorted() == (200..<400).map(Int64.init))
            #expect(db.planCache.replans == before + 1)
            #expect(try cachedIndex(db, c, ["a": 0, "b": ["$gte": 0]]) == "a_1")
            // Now the check passes after 101 results; they come first, then the rest, once each.
            let got = try c.find(["a": 1000, "b": ["$gte": 250]]).all().compactMap { $0["_id"]?.exactInt64 }
            #expect(got == (250..<400).map(Int64.init))
            #expect(db.planCache.replans == before + 1)
            let limited = try c.find(["a": 1000, "b": ["$gte": 250]], options: FindOptions(limit: 3)).all()
            #expect(limited.map { $0["_id"] } == [.int32(250), .int32(251), .int32(252)])
            #expect(try c.count(["a": 1000, "b": ["$gte": 250]]) == 150)
        }
    }

    @Test func singleCandidateShapeIsCachedAndBoundToNewValues() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<50).map { ["_id": .int32(Int32($0)), "n": .string("n\($0 % 10)"), "p": .int32(Int32($0 % 5))] })
        try c.createIndex(["n": 1])
        try c.createIndex(["p": 1], options: IndexOptions(name: "p_partial", partialFilterExpression: ["p": ["$gte": 3]]))
        let id = try #require(c.entry?.id)
        #expect(try c.find(["n": "n3"]).all().count == 5)
        #expect(db.planCache.count(collection: id) == 1)
        let hits = db.planCache.hits
        #expect(try c.find(["n": "n4"]).all().map { $0["_id"] } == [4, 14, 24, 34, 44].map { .int32($0) })
        #expect(db.planCache.hits == hits + 1)
        // The partial index answers p = 4 (cached); p = 1 is outside it: planned afresh, a scan.
        #expect(try c.find(["p": 4]).all().count == 10)
        #expect(try cachedIndex(db, c, ["p": 0]) == "p_partial")
        #expect(try c.find(["p": 1]).all().count == 10)
        #expect(try c.count(["p": 1]) == 10)
    }

    // MARK: Seeded model test

    /// A query template: each slot fixes a field, an operator and a value type, so instances
    /// share a shape and differ only in values.
    struct Slot {
        var field: String
        var op: Int  // 0 eq, 1 $gt, 2 $gte+$lte, 3 $lt, 4 $in
        var type: Int  // 0 int32, 1 string, 2 double
    }

    static func value(_ type: Int, _ r: inout Random) -> BSONValue {
        switch type {
        case 0: .int32(Int32(r.int(10)))
        case 1: .string(["a", "b", "c", "ab", ""][r.int(5)])
        default: .double(Double(r.int(20)) / 2)
        }
    }

    static func instance(_ slots: [Slot], _ r: inout Random) -> Document {
        var f = Document()
        for s in slots {
            let v = value(s.type, &r)
            switch s.op {
            case 0: f.append(s.field, v)
            case 1: f.append(s.field, ["$gt": v])
            case 2: f.append(s.field, ["$gte": v, "$lte": value(s.type, &r)])
            case 3: f.append(s.field, ["$lt": v])
            default: f.append(s.field, ["$in": .array([v, value(s.type, &r)])])
            }
        }
        return f
    }

    @Test(arguments: [31, 32, 33])
    func cachedPlansAgreeWithTheModelWhileIndexesComeAndGo(seed: Int) throws {
        var r = Random(state: UInt64(seed))
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        var model = (0..<300).map { IndexEquivalenceTests.document(&r, id: $0) }
        try c.insertMany(model)
        var present = IndexEquivalenceTests.indexes
        var absent: [(Document, IndexOptions)] = []
        for (keys, options) in present { try c.createIndex(keys, options: options) }
        let fields = ["a", "b", "c", "n.x"]
        let templates: [[Slot]] = (0..<10).map { _ in
            var pool = fields
            return (0..<(1 + r.int(2))).map { _ in
                Slot(field: pool.remove(at: r.int(pool.count)), op: r.int(5), type: r.int(3))
            }
        }
        let sorts: [Document?] = [nil, ["c": 1], ["b": -1], ["c": -1, "a": 1]]
        let hitsBefore = db.planCache.hits
        for q in 0..<150 {
            if q % 25 == 24 {
                // Drop an index (its cached plans must go) or bring a dropped one back.
                if !absent.isEmpty && r.chance(40) {
                    let (keys, options) = absent.remove(at: r.int(absent.count))
                    try c.createIndex(keys, options: options)
                    present.append((keys, options))
                } else if !present.isEmpty {
                    let (keys, options) = present.remove(at: r.int(present.count))
                    try c.dropIndex(options.name.map(BSONValue.string) ?? .document(keys))
                    absent.append((keys, options))
                }
            }
            if q % 10 == 9 {  // a delete, in the model too
                let victim = model.remove(at: r.int(model.count))
                try c.deleteOne(["_id": victim["_id"] ?? .null])
            }
            let template = templates[r.int(templates.count)]
            let f = Self.instance(template, &r)
            let s = sorts[r.int(sorts.count)]
            let context = "seed \(seed) query \(q): filter \(f) sort \(s.map { "\($0)" } ?? "-")"
            let filter = try Filter(f)
            let expected = model.filter(filter.matches).map { "\($0["_id"] ?? .null)" }.sorted()
            let got = try c.find(f, options: FindOptions(sort: s)).all()
            #expect(got.map { "\($0["_id"] ?? .null)" }.sorted() == expected, "find: \(context)")
            #expect(try c.count(f) == expected.count, "count: \(context)")
            if let s, let spec = try? SortSpec(s) {
                let keys = got.map(spec.sortKey)
                #expect(zip(keys, keys.dropFirst()).allSatisfy { spec.compareKeys($0, $1) <= 0 }, "order: \(context)")
            }
        }
        #expect(db.planCache.hits > hitsBefore)  // the run did answer from cached plans
    }
}
