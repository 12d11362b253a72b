import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Each pipeline stage over the `AggregateFixture` sales data; expected results written by
/// hand from MongoDB's documented semantics.
struct AggregateStageTests {
    typealias F = AggregateFixture

    @Test func matchThenProjectComputesFields() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$match: {item: \"a\"}}, {$project: {_id: 0, item: 1, total: {$multiply: [\"$price\", \"$qty\"]}}}]")
            #expect(result == F.docs("[{item: \"a\", total: 20}, {item: \"a\", total: 50}]"))
        }
    }

    @Test func projectReadsSliceAsTheExpression() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$match: {_id: 1}}, {$project: {_id: 0, t: {$slice: [\"$tags\", 1]}, n: {$size: \"$tags\"}}}]")
            #expect(result == F.docs("[{t: [\"x\"], n: 2}]"))
            #expect(QueryFixtures.errorCode { try F.run(sales, "[{$project: {t: {$elemMatch: {a: 1}}}}]") } == 168)
        }
    }

    @Test func setAddFieldsAndUnset() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$set: {x: {$add: [\"$price\", 1]}}}, {$addFields: {\"y.z\": \"$item\"}}, {$unset: [\"tags\", \"qty\"]}, {$match: {_id: 1}}]")
            #expect(result == F.docs("[{_id: 1, item: \"a\", price: 10, x: 11, y: {z: \"a\"}}]"))
        }
    }

    @Test func groupSumsPerKeyThenSorts() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$group: {_id: \"$item\", total: {$sum: \"$price\"}, n: {$sum: 1}}}, {$sort: {_id: 1}}]")
            #expect(result == F.docs("[{_id: \"a\", total: 15, n: 2}, {_id: \"b\", total: 35.5, n: 2}, {_id: \"c\", total: 20, n: 1}]"))
        }
    }

    @Test func pushedDownSortSkipLimit() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$sort: {price: -1, _id: 1}}, {$skip: 1}, {$limit: 2}, {$project: {_id: 1}}]")
            #expect(result == F.docs("[{_id: 4}, {_id: 5}]"))
        }
    }

    @Test func sortAfterAStageKeepsTopK() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$project: {price: 1}}, {$sort: {price: -1, _id: -1}}, {$limit: 3}]")
            #expect(result == F.docs("[{_id: 4, price: 20}, {_id: 2, price: 20}, {_id: 5, price: 15.5}]"))
            let skipped = try F.run(sales, "[{$project: {price: 1}}, {$sort: {price: 1}}, {$skip: 3}, {$limit: 1}]")
            #expect(skipped.count == 1 && skipped[0]["price"] == .int32(20))
        }
    }

    @Test func unwindDropsEmptyAndMissing() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$unwind: \"$tags\"}, {$project: {tags: 1}}]")
            #expect(result == F.docs("[{_id: 1, tags: \"x\"}, {_id: 1, tags: \"y\"}, {_id: 2, tags: \"y\"}]"))
        }
    }

    @Test func unwindWithIndexAndPreserve() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$unwind: {path: \"$tags\", includeArrayIndex: \"i\", preserveNullAndEmptyArrays: true}}, {$project: {tags: 1, i: 1}}]")
            #expect(result == F.docs("""
                [{_id: 1, tags: "x", i: NumberLong(0)}, {_id: 1, tags: "y", i: NumberLong(1)}, {_id: 2, tags: "y", i: NumberLong(0)},
                 {_id: 3, i: null}, {_id: 4, i: null}, {_id: 5, tags: null, i: null}]
                """))
        }
    }

    @Test func countStage() throws {
        try F.with { _, sales in
            let counted = try F.run(sales, "[{$match: {item: \"b\"}}, {$count: \"n\"}]")
            #expect(counted == F.docs("[{n: 2}]"))
            let none = try F.run(sales, "[{$match: {item: \"nope\"}}, {$count: \"n\"}]")
            #expect(none.isEmpty)
        }
    }

    @Test func replaceRootAndReplaceWith() throws {
        try F.with { _, sales in
            let replaced = try F.run(sales, "[{$match: {_id: 1}}, {$replaceRoot: {newRoot: {i: \"$item\"}}}]")
            #expect(replaced == F.docs("[{i: \"a\"}]"))
            let with = try F.run(sales, "[{$match: {_id: 2}}, {$replaceWith: {p: \"$price\"}}]")
            #expect(with == F.docs("[{p: 20}]"))
        }
    }

    @Test func lookupEqualityForm() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$match: {_id: {$in: [1, 4]}}}, {$lookup: {from: \"items\", localField: \"item\", foreignField: \"_id\", as: \"info\"}}, {$project: {info: 1}}]")
            #expect(result == F.docs("[{_id: 1, info: [{_id: \"a\", name: \"Apple\"}]}, {_id: 4, info: []}]"))
        }
    }

    @Test func lookupMissingLocalMatchesMissingForeign() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$match: {_id: 1}}, {$lookup: {from: \"items\", localField: \"nope\", foreignField: \"name\", as: \"info\"}}, {$project: {info: 1}}]")
            #expect(result == F.docs("[{_id: 1, info: [{_id: \"z\"}]}]"))
        }
    }

    @Test func lookupPipelineFormWithLet() throws {
        try F.with { _, sales in
            let result = try F.run(sales, """
                [{$match: {_id: 2}}, {$lookup: {from: "items", let: {it: "$item"}, pipeline: [
                  {$match: {$expr: {$eq: ["$_id", "$$it"]}}}, {$project: {_id: 0, name: 1}}], as: "info"}}, {$project: {info: 1}}]
                """)
            #expect(result == F.docs("[{_id: 2, info: [{name: \"Banana\"}]}]"))
        }
    }

    @Test func lookupLetOfAMissingFieldIsMissing() throws {
        try F.with { _, sales in
            let result = try F.run(sales, """
                [{$match: {_id: 1}}, {$lookup: {from: "items", let: {v: "$nope"}, pipeline: [
                  {$match: {$expr: {$eq: ["$name", "$$v"]}}}], as: "info"}}, {$project: {info: 1}}]
                """)
            #expect(result == F.docs("[{_id: 1, info: [{_id: \"z\"}]}]"))
        }
    }

    @Test func lookupLetIsShadowedByInnerBindings() throws {
        try F.with { _, sales in
            let result = try F.run(sales, """
                [{$match: {_id: 1}}, {$lookup: {from: "items", let: {x: "$price"}, pipeline: [
                  {$match: {_id: "a"}},
                  {$project: {_id: 0, outer: "$$x", mapped: {$map: {input: [1, 2], as: "x", in: {$add: ["$$x", 100]}}},
                              local: {$let: {vars: {x: "$name"}, in: "$$x"}}}}], as: "info"}}, {$project: {info: 1}}]
                """)
            #expect(result == F.docs("[{_id: 1, info: [{outer: 10, mapped: [101, 102], local: \"Apple\"}]}]"))
        }
    }

    @Test func lookupUncorrelatedPipeline() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$match: {_id: {$lte: 2}}}, {$lookup: {from: \"items\", pipeline: [{$count: \"n\"}], as: \"c\"}}, {$project: {c: 1}}]")
            #expect(result == F.docs("[{_id: 1, c: [{n: 3}]}, {_id: 2, c: [{n: 3}]}]"))
        }
    }

    @Test func facetRunsEachSubPipeline() throws {
        try F.with { _, sales in
            let result = try F.run(sales, """
                [{$facet: {byItem: [{$sortByCount: "$item"}, {$sort: {count: -1, _id: 1}}],
                           top: [{$sort: {price: -1, _id: 1}}, {$limit: 1}, {$project: {_id: 1}}],
                           none: [{$match: {item: "zz"}}]}}]
                """)
            #expect(result == F.docs("""
                [{byItem: [{_id: "a", count: 2}, {_id: "b", count: 2}, {_id: "c", count: 1}], top: [{_id: 2}], none: []}]
                """))
        }
    }

    @Test func sortByCountOrdersByCountDescending() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$sortByCount: \"$price\"}]")
            #expect(result.first == F.docs("[{_id: 20, count: 2}]").first)
            #expect(result.count == 4)
        }
    }

    @Test func sampleReturnsDistinctDocumentsUpToSize() throws {
        try F.with { _, sales in
            let three = try F.run(sales, "[{$sample: {size: 3}}]")
            #expect(three.count == 3)
            #expect(Set(three.compactMap { $0["_id"]?.exactInt64 }).count == 3)
            let all = try F.run(sales, "[{$sample: {size: 10}}]")
            #expect(Set(all.compactMap { $0["_id"]?.exactInt64 }) == [1, 2, 3, 4, 5])
        }
    }

    @Test func bucketPlacesValuesBetweenBoundaries() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$bucket: {groupBy: \"$price\", boundaries: [0, 10, 20], default: \"other\", output: {n: {$sum: 1}, items: {$push: \"$item\"}}}}]")
            #expect(result == F.docs("""
                [{_id: 0, n: 1, items: ["a"]}, {_id: 10, n: 2, items: ["a", "b"]}, {_id: "other", n: 2, items: ["b", "c"]}]
                """))
            let counted = try F.run(sales, "[{$bucket: {groupBy: \"$qty\", boundaries: [0, 5, 100], default: -1}}]")
            #expect(counted == F.docs("[{_id: -1, count: 1}, {_id: 0, count: 3}, {_id: 5, count: 1}]"))
        }
    }

    @Test func bucketWithoutDefaultFailsOutsideBoundaries() throws {
        try F.with { _, sales in
            #expect(QueryFixtures.errorCode { try F.run(sales, "[{$bucket: {groupBy: \"$price\", boundaries: [0, 10]}}]") } == 40066)
        }
    }

    @Test func outReplacesTheTargetCollection() throws {
        try F.with { db, sales in
            let archive = db.collection("archive", in: "shop")
            try archive.insertOne(["_id": 99])
            let returned = try F.run(sales, "[{$match: {item: \"a\"}}, {$project: {price: 1}}, {$out: \"archive\"}]")
            #expect(returned.isEmpty)
            #expect(try archive.find([:], options: FindOptions(sort: ["_id": 1])).all() == F.docs("[{_id: 1, price: 10}, {_id: 3, price: 5}]"))
            #expect(try db.listCollections(in: "shop").map(\.name).sorted() == ["archive", "items", "sales"])
        }
    }

    @Test func outKeepsThePartitionedLayoutOfTheTarget() throws {
        try F.with { db, sales in
            _ = try db.createCollection("byItem", in: "shop", options: CollectionOptions(partitionKey: "item", sortKey: "_id"))
            _ = try F.run(sales, "[{$match: {price: {$gte: 15}}}, {$project: {item: 1}}, {$out: \"byItem\"}]")
            let info = try db.listCollections(in: "shop").first { $0.name == "byItem" }
            #expect(info?.options["partitionKey"] == "item")
            let stored = try db.collection("byItem", in: "shop").find(["item": "b"]).all()
            #expect(Set(stored.compactMap { $0["_id"]?.exactInt64 }) == [2, 5])
        }
    }

    @Test func failedOutLeavesTheTargetUnchanged() throws {
        try F.with { db, sales in
            let archive = db.collection("archive", in: "shop")
            try archive.insertOne(["_id": 99])
            #expect(QueryFixtures.errorCode { try F.run(sales, "[{$project: {_id: \"$item\"}}, {$out: \"archive\"}]") } == 11000)
            #expect(try archive.find().all() == F.docs("[{_id: 99}]"))
            #expect(try db.listCollections(in: "shop").map(\.name).sorted() == ["archive", "items", "sales"])
        }
    }

    @Test func leadingMatchAndSortArePushedIntoTheFind() throws {
        try F.with { _, sales in
            let plan = try sales.explainAggregate(F.docs("[{$match: {item: \"a\"}}, {$sort: {price: 1}}, {$match: {qty: {$gt: 1}}}, {$limit: 1}, {$project: {x: 1}}]"))
            let stages = plan["stages"]?.arrayValue ?? []
            #expect(stages.count == 2)
            let find = stages.first?.documentValue?["$cursor"]?.documentValue
            #expect(find?["filter"] == QueryFixtures.value("{$and: [{item: \"a\"}, {qty: {$gt: 1}}]}"))
            #expect(find?["sort"] == QueryFixtures.value("{price: 1}"))
            #expect(find?["limit"] == .int64(1))
            #expect(stages.last == QueryFixtures.value("{$project: {x: 1}}"))
            let result = try F.run(sales, "[{$match: {item: \"a\"}}, {$sort: {price: 1}}, {$match: {qty: {$gt: 1}}}, {$limit: 1}, {$project: {qty: 1}}]")
            #expect(result == F.docs("[{_id: 3, qty: 10}]"))
        }
    }

    @Test func matchAfterGroupFiltersGroups() throws {
        try F.with { _, sales in
            let result = try F.run(sales, "[{$group: {_id: \"$item\", n: {$sum: 1}}}, {$match: {n: {$gte: 2}}}, {$sort: {_id: 1}}]")
            #expect(result == F.docs("[{_id: \"a\", n: 2}, {_id: \"b\", n: 2}]"))
        }
    }

    @Test func emptyOrMissingCollectionGivesNoResults() throws {
        try F.with { db, _ in
            let missing = db.collection("nothing", in: "shop")
            let result = try F.run(missing, "[{$group: {_id: null, n: {$sum: 1}}}]")
            #expect(result.isEmpty)
        }
    }
}
