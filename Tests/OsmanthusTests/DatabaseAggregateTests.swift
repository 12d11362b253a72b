import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Database-level aggregation (`$documents`) and `$out` keeping the target's indexes; expected
/// results written by hand from MongoDB's documented semantics.
struct DatabaseAggregateTests {
    typealias F = AggregateFixture

    func run(_ db: Database, _ pipeline: String) throws -> [Document] {
        try db.aggregate(F.docs(pipeline), in: "shop").all()
    }

    @Test func documentsStageFeedsTheRestOfThePipeline() throws {
        try F.with { db, _ in
            let out = try run(db, """
                [{$documents: [{x: 1}, {x: 2}, {x: 3}]}, {$match: {x: {$gte: 2}}},
                 {$project: {_id: 0, y: {$multiply: ["$x", 10]}}}]
                """)
            #expect(out == F.docs("[{y: 20}, {y: 30}]"))
            // The argument is an expression, evaluated once.
            let computed = try run(db, "[{$documents: {$map: {input: [1, 2], in: {n: \"$$this\"}}}}]")
            #expect(computed == F.docs("[{n: 1}, {n: 2}]"))
            #expect(try run(db, "[{$documents: []}]").isEmpty)
        }
    }

    @Test func documentsCanLookUpAndWriteCollections() throws {
        try F.with { db, _ in
            let joined = try run(db, """
                [{$documents: [{item: "a"}, {item: "q"}]},
                 {$lookup: {from: "sales", localField: "item", foreignField: "item", as: "s"}},
                 {$project: {_id: 0, item: 1, n: {$size: "$s"}}}]
                """)
            #expect(joined == F.docs("[{item: \"a\", n: 2}, {item: \"q\", n: 0}]"))
            #expect(try run(db, "[{$documents: [{_id: 1, k: \"v\"}]}, {$out: \"made\"}]").isEmpty)
            #expect(try db.collection("made", in: "shop").find().all() == F.docs("[{_id: 1, k: \"v\"}]"))
        }
    }

    @Test func collectionlessPipelineErrorsUseMongoDBCodes() throws {
        try F.with { db, sales in
            #expect(QueryFixtures.errorCode { try run(db, "[{$match: {}}]") } == 73)
            #expect(QueryFixtures.errorCode { try run(db, "[]") } == 73)
            #expect(QueryFixtures.errorCode { try run(db, "[{$documents: [{}]}, {$documents: [{}]}]") } == 40602)
            #expect(QueryFixtures.errorCode { try run(db, "[{$documents: 5}]") } == 5858203)
            #expect(QueryFixtures.errorCode { try run(db, "[{$documents: [1]}]") } == 5858203)
            #expect(QueryFixtures.errorCode { try F.run(sales, "[{$documents: [{}]}]") } == 73)
        }
    }

    @Test func outKeepsTheIndexesOfTheTargetItReplaces() throws {
        try F.with { db, sales in
            let archive = db.collection("archive", in: "shop")
            try archive.insertOne(["_id": 99, "item": "old", "price": 1])
            try archive.createIndex(["item": 1], options: IndexOptions(name: "byItem"))
            try archive.createIndex(["price": -1], options: IndexOptions(unique: true, sparse: true))
            let before = try archive.listIndexes()
            _ = try F.run(sales, "[{$match: {price: {$lt: 20}}}, {$project: {item: 1, price: 1}}, {$out: \"archive\"}]")
            #expect(try archive.listIndexes() == before)
            #expect(Set(try archive.find().all().compactMap { $0["_id"]?.exactInt64 }) == [1, 3, 5])
            // The copied indexes hold the new documents and answer queries.
            let plan = try archive.explain(["item": "a"])["queryPlanner"]?.documentValue?["winningPlan"]?.documentValue
            #expect(plan?["inputStage"]?.documentValue?["indexName"] == "byItem")
            #expect(try archive.find(["item": "a"]).all().count == 2)
            // Results breaking the target's unique index fail the $out; the target is unchanged.
            let code = QueryFixtures.errorCode {
                try F.run(sales, "[{$match: {price: 20}}, {$project: {price: 1}}, {$out: \"archive\"}]")
            }
            #expect(code == 11000)
            #expect(Set(try archive.find().all().compactMap { $0["_id"]?.exactInt64 }) == [1, 3, 5])
            #expect(try db.listCollections(in: "shop").map(\.name).sorted() == ["archive", "items", "sales"])
        }
    }
}
