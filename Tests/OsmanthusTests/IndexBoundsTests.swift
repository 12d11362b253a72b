import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

/// Index bounds as explain shows them (worked out only when asked), the planner's check for
/// positional path components, and index cursors reading one view of the engine.
struct IndexBoundsTests {
    func withCollection(_ body: (Osmanthus.Collection) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        try body(db.collection("c", in: "t"))
        try db.close()
    }

    func ixscan(_ explain: Document) -> Document? {
        var stage = explain["queryPlanner"]?.documentValue?["winningPlan"]?.documentValue
        while let s = stage, s["stage"]?.stringValue != "IXSCAN" { stage = s["inputStage"]?.documentValue }
        return stage
    }

    @Test func explainShowsPointsThenTheRangeThenFreeFieldsInIndexOrder() throws {
        try withCollection { c in
            try c.createIndex(["a": 1, "b": -1, "c": 1, "d": 1])
            for i in 0..<20 { try c.insertOne(["_id": .int32(Int32(i)), "a": .int32(Int32(i % 3)), "b": .int32(Int32(i % 5)), "c": .int32(Int32(i))]) }
            let ix = ixscan(try c.explain(["a": ["$in": [1, 2]], "b": 4, "c": ["$gte": 3, "$lt": 9]]))
            let bounds = ix?["indexBounds"]?.documentValue
            #expect(bounds?.keys == ["a", "b", "c", "d"])
            #expect(bounds?["a"] == ["[1, 1]", "[2, 2]"])
            #expect(bounds?["b"] == ["[4, 4]"])
            #expect(bounds?["c"] == ["[3, 9)"])
            #expect(bounds?["d"] == ["[MinKey, MaxKey]"])
            // The answer is the one without the index.
            let want = try c.find(["a": ["$in": [1, 2]], "b": 4, "c": ["$gte": 3, "$lt": 9]], options: FindOptions(hint: ["$natural": 1])).all()
            let got = try c.find(["a": ["$in": [1, 2]], "b": 4, "c": ["$gte": 3, "$lt": 9]]).all()
            #expect(Set(got.map { $0["_id"]?.exactInt64 ?? -1 }) == Set(want.map { $0["_id"]?.exactInt64 ?? -1 }))
            #expect(!want.isEmpty)
        }
    }

    @Test func explainShowsAFieldLeftFreeByARangeOnAnEarlierOneAsUnbounded() throws {
        try withCollection { c in
            try c.createIndex(["a": 1, "b": 1])
            try c.insertOne(["_id": 1, "a": 5, "b": 1])
            let bounds = ixscan(try c.explain(["a": ["$gt": 2], "b": 1]))?["indexBounds"]?.documentValue
            #expect(bounds?["a"] == ["(2"])
            #expect(bounds?["b"] == ["[MinKey, MaxKey]"])
        }
    }

    @Test func positionalComponentsAreAsciiDigitRuns() {
        #expect(QueryPlanner.hasNumericComponent("a.0"))
        #expect(QueryPlanner.hasNumericComponent("0"))
        #expect(QueryPlanner.hasNumericComponent("a.12.b"))
        #expect(QueryPlanner.hasNumericComponent("a.01"))
        #expect(!QueryPlanner.hasNumericComponent("a"))
        #expect(!QueryPlanner.hasNumericComponent("a.b0"))
        #expect(!QueryPlanner.hasNumericComponent("a.0b.c"))
        #expect(!QueryPlanner.hasNumericComponent("a..b"))
        #expect(!QueryPlanner.hasNumericComponent(""))
    }

    @Test func indexOnAPositionalPathIsNotUsedForBounds() throws {
        try withCollection { c in
            try c.createIndex(["a.0": 1])
            try c.insertOne(["_id": 1, "a": [5, 6]])
            try c.insertOne(["_id": 2, "a": [6, 5]])
            #expect(ixscan(try c.explain(["a.0": 5])) == nil)
            #expect(try c.find(["a.0": 5]).all().map { $0["_id"] } == [.int32(1)])
        }
    }

    /// A seeded model: cursors opened before later writes (which flush and compact) return what
    /// the collection held when they were opened, through the index and through a scan alike.
    @Test func openCursorsKeepTheirMomentWhileWritesGoOn() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var options = DatabaseOptions()
        options.storage.memtableSize = 32 << 10
        let db = try Database.open(at: dir.path, options: options)
        let c = db.collection("c", in: "t")
        try c.createIndex(["v": 1])
        let seed: UInt64 = 0xC0_45_0E
        var rng = SplitMix64(seed: seed)
        var model: [Int: Int] = [:]
        var open: [(Cursor, Cursor, Int, [Int: Int])] = []
        for round in 0..<8 {
            for _ in 0..<150 {
                let id = Int.random(in: 0..<300, using: &rng)
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    try c.deleteOne(["_id": .int64(Int64(id))])
                    model[id] = nil
                } else {
                    let v = Int.random(in: 0..<20, using: &rng)
                    try c.replaceOne(["_id": .int64(Int64(id))], ["v": .int64(Int64(v)), "pad": .string(String(repeating: "p", count: 100))], upsert: true)
                    model[id] = v
                }
            }
            let v = round % 20
            open.append((try c.find(["v": .int64(Int64(v))]), try c.find(["v": .int64(Int64(v))], options: FindOptions(hint: ["$natural": 1])), v, model))
        }
        for (n, (indexed, scanned, v, then)) in open.enumerated() {
            let want = Set(then.filter { $0.value == v }.keys)
            let viaIndex = try indexed.all().map { Int($0["_id"]?.exactInt64 ?? -1) }
            let viaScan = try scanned.all().map { Int($0["_id"]?.exactInt64 ?? -1) }
            #expect(Set(viaIndex) == want, "seed \(seed): cursor \(n) through the index")
            #expect(viaIndex.count == want.count, "seed \(seed): cursor \(n) duplicates")
            #expect(Set(viaScan) == want, "seed \(seed): cursor \(n) by scan")
        }
        try db.close()
    }
}
