import OsmanthusBSON
import Testing

@testable import Osmanthus

/// What a plan-cache entry keeps about its index's plan beyond the index (`PlanCache.Derived`:
/// covering, sort order, direction, exactness) and counts whose cached plan is checked by
/// counting keys (`IndexScan.primeCount`): answers equal to a brute-force model, and each
/// cached plan equal to the one planned afresh, while values change type, an index becomes
/// multikey and entries hold values that break exactness.
struct PlanCacheDerivedTests {
    typealias Random = IndexEquivalenceTests.Random

    static func value(_ type: Int, _ r: inout Random) -> BSONValue {
        switch type {
        case 0: .int32(Int32(r.int(10)))
        case 1: .string(["a", "b", "c", "ab", ""][r.int(5)])
        case 2: .double(Double(r.int(20)) / 2)
        case 3: .decimal128(r.chance(10) ? Decimal128.nan : Decimal128(Int64(r.int(10))))
        default: r.chance(20) ? .double(.nan) : .int64(Int64(r.int(10)))
        }
    }

    static func document(_ r: inout Random, id: Int) -> Document {
        var d: Document = ["_id": .int32(Int32(id))]
        if !r.chance(10) { d.append("a", value(r.int(5), &r)) }
        if !r.chance(10) { d.append("b", value(r.int(3), &r)) }
        if !r.chance(10) { d.append("c", .int32(Int32(r.int(6)))) }
        return d
    }

    struct Slot {
        var field: String
        var op: Int  // 0 eq, 1 $gte+$lte, 2 $gt, 3 $lte, 4 $in
        var type: Int
    }

    static func instance(_ slots: [Slot], _ r: inout Random) -> Document {
        var f = Document()
        for s in slots {
            let v = value(s.type, &r)
            switch s.op {
            case 0: f.append(s.field, v)
            case 1: f.append(s.field, ["$gte": v, "$lte": value(s.type, &r)])
            case 2: f.append(s.field, ["$gt": v])
            case 3: f.append(s.field, ["$lte": v])
            default: f.append(s.field, ["$in": .array([v, value(s.type, &r)])])
            }
        }
        return f
    }

    /// A document as text with its fields in name order (a covered document lists them in the
    /// index's order).
    static func canonical(_ d: Document) -> String {
        d.map { "\($0.0)=\($0.1)" }.sorted().joined(separator: ",")
    }

    /// The plan `find` would use now, from the cache (`cached`) or planned afresh.
    func plan(_ c: Collection, _ f: Document, sort: Document?, projection: Document?, cached: Bool) throws -> QueryPlan {
        let entry = try #require(c.entry)
        var planner = c.planner(entry)
        planner.usePlanCache = cached
        return try planner.plan(try Filter(f), sort: try sort.map { try SortSpec($0) }, projection: projection,
                                hint: nil, collection: c)
    }

    @Test(arguments: [41, 42, 43])
    func cachedPlansMatchFreshPlansAndTheModel(seed: Int) throws {
        var r = Random(state: UInt64(seed))
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        var model = (0..<250).map { Self.document(&r, id: $0) }
        try c.insertMany(model)
        try c.createIndex(["a": 1])
        try c.createIndex(["b": -1])
        try c.createIndex(["c": 1, "b": 1])
        try c.createIndex(["b": 1, "c": -1], options: IndexOptions(sparse: true))
        let templates: [[Slot]] = (0..<12).map { _ in
            var pool = ["a", "b", "c"]
            return (0..<(1 + r.int(2))).map { _ in
                Slot(field: pool.remove(at: r.int(pool.count)), op: r.int(5), type: r.int(5))
            }
        }
        let sorts: [Document?] = [nil, ["b": 1], ["b": -1], ["c": -1, "b": -1]]
        let projections: [Document?] = [nil, ["_id": 0, "a": 1], ["_id": 0, "b": 1, "c": 1]]
        var nextId = 1000
        var compared = 0
        for q in 0..<160 {
            if q == 80 {
                // `a` becomes multikey: plans kept while it was not must not be reused.
                let doc: Document = ["_id": .int32(Int32(nextId)), "a": [1, 2], "b": "ab", "c": 2]
                nextId += 1
                try c.insertOne(doc)
                model.append(doc)
            }
            if q % 10 == 9 {  // writes move entries under the cached plans
                let doc = Self.document(&r, id: nextId)
                nextId += 1
                try c.insertOne(doc)
                model.append(doc)
                let victim = model.remove(at: r.int(model.count))
                try c.deleteOne(["_id": victim["_id"] ?? .null])
            }
            let template = templates[r.int(templates.count)]
            let f = Self.instance(template, &r)
            let s = sorts[r.int(sorts.count)]
            let p = projections[r.int(projections.count)]
            let context = "seed \(seed) query \(q): filter \(f) sort \(s.map { "\($0)" } ?? "-") projection \(p.map { "\($0)" } ?? "-")"
            let filter = try Filter(f)
            let matches = model.filter(filter.matches)
            let projection = try p.map { try Projection($0) }
            let expected = try matches.map { d -> String in
                Self.canonical(try projection?.apply(to: d, filter: filter) ?? d)
            }.sorted()
            let got = try c.find(f, options: FindOptions(sort: s, projection: p)).all()
            #expect(got.map(Self.canonical).sorted() == expected, "find: \(context)")
            #expect(try c.count(f) == matches.count, "count: \(context)")
            if let s, let spec = try? SortSpec(s), p == nil {
                let keys = got.map(spec.sortKey)
                #expect(zip(keys, keys.dropFirst()).allSatisfy { spec.compareKeys($0, $1) <= 0 }, "order: \(context)")
            }
            // The cached plan (bound to these values) is the plan the rules give these values.
            let cachedPlan = try plan(c, f, sort: s, projection: p, cached: true)
            let freshPlan = try plan(c, f, sort: s, projection: p, cached: false)
            if case .index(let a) = cachedPlan.kind, case .index(let b) = freshPlan.kind, a.spec.name == b.spec.name {
                compared += 1
                #expect(a.covered == b.covered, "covered: \(context)")
                #expect(a.providesSort == b.providesSort, "providesSort: \(context)")
                #expect(a.backward == b.backward, "backward: \(context)")
                #expect(a.exact == b.exact, "exact: \(context)")
                #expect(a.bounds.intervals.map { $0.start } == b.bounds.intervals.map { $0.start }, "bounds: \(context)")
                #expect(a.bounds.intervals.map { $0.end } == b.bounds.intervals.map { $0.end }, "bounds: \(context)")
            }
        }
        #expect(compared > 40)
    }

    /// Value-dependent filters keep no derived plan: `$in` (its values decide the points) and
    /// Decimal128 (a NaN bounds nothing; the shape does not tell it apart).
    @Test func onlyValueIndependentShapesKeepDerivedPlans() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<20).map { ["_id": .int32(Int32($0)), "a": .int32(Int32($0 % 4))] })
        try c.createIndex(["a": 1])
        let entry = try #require(c.entry)
        let indexes = db.indexCatalog.indexes(of: entry.id).filter { $0.state == .ready }
        func derived(_ f: Document) throws -> PlanCache.Derived? {
            _ = try c.find(f).all()
            let shape = PlanCache.shape(f, sort: nil, projection: nil)
            return try #require(db.planCache.entry(collection: entry.id, shape: shape, indexes: indexes)).derived
        }
        #expect(try derived(["a": ["$gte": 1, "$lte": 2]]) == PlanCache.Derived(
            multikey: false, covered: false, providesSort: false, backward: false, exact: true))
        #expect(try derived(["a": ["$in": [1, 2]]]) == nil)
        #expect(try derived(["a": .decimal128(Decimal128(1))]) == nil)
        // The Decimal128 NaN shares that shape and bounds nothing: a scan, still right.
        #expect(try c.find(["a": .decimal128(Decimal128.nan)]).all().isEmpty)
        #expect(try c.find(["a": .decimal128(Decimal128(2))]).all().count == 5)
    }

    /// A count whose cached plan came from a trial is checked by counting keys when its bounds
    /// are exact: no document is read, and the count is the model's, including entries holding
    /// a Decimal128 (which the keys cannot decide), ranges far wider than the cached one (the
    /// check fails, the entry is evicted and the count re-planned) and deletes.
    @Test(arguments: [51, 52])
    func countsCheckedByKeysAgreeWithTheModel(seed: Int) throws {
        var r = Random(state: UInt64(seed))
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        var model: [Document] = (0..<300).map { i in
            let a: BSONValue = i % 13 == 0 ? .decimal128(Decimal128(Int64(i / 2))) : .int32(Int32(i / 2))
            return ["_id": .int32(Int32(i)), "a": a, "b": .int32(Int32(i % 7))]
        }
        try c.insertMany(model)
        // Two indexes bound `a` alike: a trial chooses, and the winner is cached with its works.
        try c.createIndex(["a": 1])
        try c.createIndex(["a": 1, "b": 1])
        let replans = db.planCache.replans
        func modelCount(_ f: Document) throws -> Int { model.filter(try Filter(f).matches).count }
        // Cached from a narrow range (a few works), the plan fails a wide range's check.
        let narrow: Document = ["a": ["$gte": 10, "$lte": 10]]
        let wide: Document = ["a": ["$gte": 0, "$lte": 149]]
        #expect(try c.count(narrow) == modelCount(narrow))
        #expect(try c.count(wide) == modelCount(wide))
        #expect(db.planCache.replans == replans + 1)
        for q in 0..<60 {
            let lo = r.int(150)
            let width = [0, 1, 2, 120][r.int(4)]
            let f: Document = ["a": ["$gte": .int32(Int32(lo)), "$lte": .int32(Int32(lo + width))]]
            if q % 15 == 14 {
                let victim = model.remove(at: r.int(model.count))
                try c.deleteOne(["_id": victim["_id"] ?? .null])
            }
            let filter = try Filter(f)
            #expect(try c.count(f) == model.filter(filter.matches).count, "seed \(seed) query \(q): \(f)")
        }

        // One scan worked as count's check: keys only, the check's count carried into the answer.
        let entry = try #require(c.entry)
        let f: Document = ["a": ["$gte": 0, "$lte": 400]]
        let filter = try Filter(f)
        let freshPlan = try plan(c, f, sort: nil, projection: nil, cached: false)  // not covered: reads are counted
        guard case .index(let p) = freshPlan.kind else {
            Issue.record("expected an index plan")
            return
        }
        #expect(p.exact)
        let scan = IndexScan(plan: p, view: c.storage.readView(), documentPrefix: entry.documentPrefix, filter: filter)
        #expect(try scan.primeCount(target: 101, budget: 1000))
        let decimals = model.filter { if case .decimal128? = $0["a"] { true } else { false } }.count
        #expect(scan.docsExamined <= decimals)  // only entries the keys cannot decide are read
        #expect(try scan.count() == model.filter(filter.matches).count)
        #expect(scan.docsExamined == decimals)
        // A budget too small to finish the check fails it.
        let small = IndexScan(plan: p, view: c.storage.readView(), documentPrefix: entry.documentPrefix, filter: filter)
        #expect(try !small.primeCount(target: 101, budget: 5))
    }
}
