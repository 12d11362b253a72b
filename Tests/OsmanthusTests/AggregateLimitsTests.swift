import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Malformed pipelines fail with MongoDB's codes and messages naming the culprit; blocking
/// stages stay within the memory budget or fail with QueryExceededMemoryLimitNoDiskUseAllowed.
struct AggregateLimitsTests {
    typealias F = AggregateFixture

    static func error(_ body: () throws -> Void) -> OsmanthusError? {
        do {
            try body()
            return nil
        } catch let error as OsmanthusError {
            return error
        } catch {
            return nil
        }
    }

    @Test func unknownStageIsNamed() throws {
        try F.with { _, sales in
            let error = Self.error { _ = try F.run(sales, "[{$match: {}}, {$frobnicate: {}}]") }
            #expect(error?.code.value == 40324)
            #expect(error?.message == "Unrecognized pipeline stage name: '$frobnicate'")
        }
    }

    @Test func unknownExpressionOperatorIsNamed() throws {
        try F.with { _, sales in
            let error = Self.error { _ = try F.run(sales, "[{$project: {x: {$frobnicate: 1}}}]") }
            #expect(error?.code.value == 168)
            #expect(error?.message == "Unrecognized expression '$frobnicate'")
        }
    }

    @Test func malformedStagesUseMongoDBCodes() throws {
        let cases: [(String, Int32)] = [
            ("[{$match: {}, $limit: 1}]", 40323), ("[{$out: \"x\"}, {$match: {}}]", 40601), ("[{$limit: 0}]", 15958),
            ("[{$skip: -1}]", 15956), ("[{$sort: {a: 2}}]", 15975), ("[{$count: \"a.b\"}]", 40160), ("[{$count: \"$a\"}]", 40158),
            ("[{$unwind: \"tags\"}]", 28818), ("[{$group: {_id: null, x: {$median: 1}}}]", 15952),
            ("[{$bucket: {groupBy: \"$a\", boundaries: [5, 1]}}]", 40194), ("[{$sample: {}}]", 28745),
            ("[{$facet: {x: [{$out: \"y\"}]}}]", 40600), ("[{$lookup: {from: \"items\", as: \"x\"}}]", 9),
        ]
        try F.with { _, sales in
            for (pipeline, code) in cases {
                #expect(QueryFixtures.errorCode { try F.run(sales, pipeline) } == code, "\(pipeline)")
            }
        }
    }

    /// 300 documents of ~100 bytes against a 4 KiB budget.
    static func withBigCollection(_ body: (Collection) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let collection = db.collection("big", in: "test")
        let padding = String(repeating: "p", count: 80)
        try collection.insertMany((0..<300).map { i in ["_id": .int32(Int32(i)), "k": .int32(Int32(i % 3)), "pad": .string(padding)] })
        try body(collection)
    }

    static let small = AggregateOptions(memoryLimit: 4096)

    @Test func groupOverBudgetFailsWith292() throws {
        try Self.withBigCollection { collection in
            let error = Self.error { _ = try F.run(collection, "[{$group: {_id: \"$_id\", n: {$sum: 1}}}]", options: Self.small) }
            #expect(error?.code.value == 292)
            #expect(error?.code.name == "QueryExceededMemoryLimitNoDiskUseAllowed")
            let pushed = Self.error { _ = try F.run(collection, "[{$group: {_id: \"$k\", all: {$push: \"$pad\"}}}]", options: Self.small) }
            #expect(pushed?.code.value == 292)
            // Few groups with scalar accumulators fit.
            let fits = try F.run(collection, "[{$group: {_id: \"$k\", n: {$sum: 1}}}, {$sort: {_id: 1}}]", options: Self.small)
            #expect(fits == F.docs("[{_id: 0, n: 100}, {_id: 1, n: 100}, {_id: 2, n: 100}]"))
        }
    }

    @Test func sortOverBudgetFailsButTopKFits() throws {
        try Self.withBigCollection { collection in
            let error = Self.error { _ = try F.run(collection, "[{$project: {pad: 1}}, {$sort: {_id: -1}}]", options: Self.small) }
            #expect(error?.code.value == 292)
            let top = try F.run(collection, "[{$project: {pad: 1}}, {$sort: {_id: -1}}, {$limit: 3}, {$project: {_id: 1}}]", options: Self.small)
            #expect(top == F.docs("[{_id: 299}, {_id: 298}, {_id: 297}]"))
        }
    }

    @Test func pushedDownSortAndFindSortAreBudgeted() throws {
        try Self.withBigCollection { collection in
            let error = Self.error { _ = try F.run(collection, "[{$sort: {pad: 1, _id: -1}}]", options: Self.small) }
            #expect(error?.code.value == 292)
            let top = try F.run(collection, "[{$sort: {pad: 1, _id: -1}}, {$limit: 2}, {$project: {_id: 1}}]", options: Self.small)
            #expect(top == F.docs("[{_id: 299}, {_id: 298}]"))
            var options = FindOptions(sort: ["_id": -1])
            options.memoryLimit = 4096
            let find = Self.error { _ = try collection.find([:], options: options).all() }
            #expect(find?.code.value == 292)
            options.limit = 1
            #expect(try collection.find([:], options: options).all().map { $0["_id"] } == [.int32(299)])
        }
    }

    @Test func facetAndBucketAreBudgeted() throws {
        try Self.withBigCollection { collection in
            let facet = Self.error { _ = try F.run(collection, "[{$facet: {a: [{$limit: 1}]}}]", options: Self.small) }
            #expect(facet?.code.value == 292)
            let bucket = Self.error {
                _ = try F.run(collection, "[{$bucket: {groupBy: \"$_id\", boundaries: [0, 1000], output: {p: {$push: \"$pad\"}}}}]", options: Self.small)
            }
            #expect(bucket?.code.value == 292)
        }
    }

    @Test func asyncAggregateReturnsAllResults() async throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let collection = db.collection("c", in: "test")
        try await collection.insertMany([["_id": 1, "v": 2], ["_id": 2, "v": 3]])
        let result: [Document] = try await collection.aggregate([["$group": ["_id": .null, "s": ["$sum": "$v"]]]])
        #expect(result == [["_id": .null, "s": 5]])
        try db.close()
    }
}

/// The bounded top-k of `$sort` + `$limit` (in the pipeline and in a pushed-down find) gives
/// the same documents in the same order as a full stable sort of a model.
struct AggregateTopKTests {
    @Test(arguments: [1, 7, 50, 199, 500])
    func topKMatchesAFullStableSort(limit: Int) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let collection = db.collection("c", in: "test")
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(limit)
        func nextRandom() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33)
        }
        let model = (0..<200).map { i in (id: i, k: nextRandom() % 13) }
        try collection.insertMany(model.map { ["_id": .int32(Int32($0.id)), "k": .int32(Int32($0.k))] })
        // Ties keep insertion (= _id) order: a stable sort by k descending, skip 1, then limit.
        let sorted = model.sorted { $0.k != $1.k ? $0.k > $1.k : $0.id < $1.id }
        let want = sorted.dropFirst(1).prefix(limit).map(\.id)
        for prefix in ["", "{$project: {k: 1}}, "] {
            let pipeline = QueryFixtures.docs("[\(prefix){$sort: {k: -1}}, {$skip: 1}, {$limit: \(limit)}]")
            let got = try collection.aggregate(pipeline).all().compactMap { $0["_id"]?.exactInt64.map(Int.init) }
            #expect(got == want, "pipeline \(prefix.isEmpty ? "pushed down" : "after $project"), limit \(limit)")
        }
    }
}
