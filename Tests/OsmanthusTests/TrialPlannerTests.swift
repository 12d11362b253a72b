import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Trial planning among several index candidates, its plan cache, and explain's view of the
/// trial (SPEC.md §11.6).
struct TrialPlannerTests {
    /// `a` is 1 in every document (an index on it selects everything), `b` is unique.
    func withSkewedCollection(_ body: (Database, Collection) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<400).map { ["_id": .int32(Int32($0)), "a": 1, "b": .int32(Int32($0)), "c": .int32(Int32($0 % 4))] })
        try c.createIndex(["a": 1])  // first: the rules' tie-break would pick it
        try c.createIndex(["b": 1])
        try body(db, c)
    }

    func plan(_ c: Collection, _ filter: Document) throws -> QueryPlan {
        let entry = try #require(c.entry)
        return try c.planner(entry).plan(Filter(filter), sort: nil, projection: nil, hint: nil, collection: c)
    }

    func indexName(_ plan: QueryPlan) -> String? {
        if case .index(let p) = plan.kind { return p.spec.name }
        return nil
    }

    @Test func trialPicksTheCandidateThatFinishesFirst() throws {
        try withSkewedCollection { _, c in
            let ex = try c.explain(["a": 1, "b": 7])
            let winning = ex["queryPlanner"]?.documentValue?["winningPlan"]?.documentValue
            #expect(winning?["inputStage"]?.documentValue?["indexName"] == "b_1")
            let all = ex["executionStats"]?.documentValue?["allPlansExecution"]?.arrayValue ?? []
            let trials = all.compactMap { $0.documentValue }
            #expect(trials.count == 2)
            func trial(_ name: String) -> Document? {
                trials.first { $0["inputStage"]?.documentValue?["indexName"] == .string(name) }?["trial"]?.documentValue
            }
            // b_1 reads its one key and finds its end; a_1 was worked as many times, one key each.
            #expect(trial("b_1")?["isEOF"] == .bool(true))
            #expect(trial("b_1")?["nReturned"] == .int64(1))
            #expect(trial("a_1")?["isEOF"] == .bool(false))
            let aWorks = trial("a_1")?["works"]?.exactInt64 ?? 0
            let bWorks = trial("b_1")?["works"]?.exactInt64 ?? 0
            #expect(aWorks >= 1 && aWorks <= bWorks)
            #expect(try c.find(["a": 1, "b": 7]).all().map { $0["_id"] } == [.int32(7)])
        }
    }

    @Test func trialWithoutAFinisherPicksTheMostProductive() throws {
        try withSkewedCollection { _, c in
            // Neither scan ends soon: a_1 (the rules' choice, an equality) first reads 100 keys
            // that fail the filter, b_1's keys all match, so b_1 returns 101 results first.
            let f: Document = ["a": 1, "b": ["$gte": 100], "c": ["$in": [0, 1, 2, 3]]]
            let p = try plan(c, f)
            #expect(indexName(p) == "b_1")
            #expect(p.trial?.fromCache == false)
            #expect(try c.count(f) == 300)
        }
    }

    @Test func winnerIsCachedPerShapeUntilTheIndexesChange() throws {
        try withSkewedCollection { db, c in
            let id = try #require(c.entry?.id)
            #expect(db.planCache.count(collection: id) == 0)
            let first = try plan(c, ["a": 1, "b": 7])
            #expect(first.trial?.fromCache == false)
            #expect(db.planCache.count(collection: id) == 1)
            // Same shape, other values: the cached winner, no trial.
            let again = try plan(c, ["a": 1, "b": 300])
            #expect(again.trial?.fromCache == true)
            #expect(indexName(again) == "b_1")
            #expect(try c.find(["a": 1, "b": 300]).all().count == 1)
            // Another shape (a range) is planned and cached on its own.
            _ = try plan(c, ["a": 1, "b": ["$gt": 390]])
            #expect(db.planCache.count(collection: id) == 2)
            // A new index empties the collection's cache: the next query runs a trial again.
            try c.createIndex(["c": 1])
            let afterCreate = try plan(c, ["a": 1, "b": 7])
            #expect(afterCreate.trial?.fromCache == false)
            #expect(db.planCache.count(collection: id) == 1)
            // Dropping the cached winner: a trial among those left, never the dropped index.
            try c.dropIndex("b_1")
            let afterDrop = try plan(c, ["a": 1, "b": 7, "c": 3])
            #expect(afterDrop.trial?.fromCache == false)
            #expect(indexName(afterDrop) == "c_1")
            #expect(try c.find(["a": 1, "b": 7, "c": 3]).all().map { $0["_id"] } == [.int32(7)])
        }
    }

    @Test func explainRunsAFreshTrialAndHintSkipsIt() throws {
        try withSkewedCollection { _, c in
            _ = try c.find(["a": 1, "b": 7]).all()
            let ex = try c.explain(["a": 1, "b": 8])
            let all = ex["executionStats"]?.documentValue?["allPlansExecution"]?.arrayValue ?? []
            #expect(all.allSatisfy { ($0.documentValue?["trial"]?.documentValue?["works"]?.exactInt64 ?? 0) > 0 })
            #expect(all.count == 2)
            let hinted = try c.explain(["a": 1, "b": 8], options: FindOptions(hint: "a_1"))
            #expect(hinted["executionStats"]?.documentValue?["allPlansExecution"] == nil)
            let stage = hinted["queryPlanner"]?.documentValue?["winningPlan"]?.documentValue?["inputStage"]?.documentValue
            #expect(stage?["indexName"] == "a_1")
        }
    }
}
