import OsmanthusBSON
import Testing

@testable import Osmanthus

/// A `Collection` keeps the catalog entry and ready indexes its queries last used; every
/// catalog change must reach the next query on the same `Collection` object.
struct CatalogLookupCacheTests {
    func withDatabase(_ body: (Database) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        try body(db)
        try db.close()
    }

    func ids(_ docs: [Document]) -> [Int32] {
        docs.compactMap { if case .int32(let i)? = $0["_id"] { i } else { nil } }.sorted()
    }

    /// A range on a field whose index turns multikey: a stale (not multikey) spec would
    /// intersect both bounds and miss an array matching each bound with a different element.
    @Test func indexTurningMultikeyAfterAQueryIsSeenByTheNextQuery() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            for i in 0..<20 { try c.insertOne(["_id": .int32(Int32(i)), "a": .int32(Int32(i % 10))]) }
            try c.createIndex(["a": 1])
            let filter: Document = ["a": ["$gte": 4, "$lte": 5]]
            #expect(try ids(c.find(filter).all()) == [4, 5, 14, 15])
            #expect(try c.count(filter) == 4)
            try c.insertOne(["_id": 100, "a": [0, 9]])  // matches $gte 4 by 9, $lte 5 by 0
            #expect(try ids(c.find(filter).all()) == [4, 5, 14, 15, 100])
            #expect(try c.count(filter) == 5)
        }
    }

    @Test func indexesCreatedAndDroppedBetweenQueriesChangeThePlan() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            for i in 0..<10 { try c.insertOne(["_id": .int32(Int32(i)), "a": .int32(Int32(i))]) }
            let filter: Document = ["a": ["$gte": 3, "$lt": 6]]
            #expect(try ids(c.find(filter).all()) == [3, 4, 5])
            try c.createIndex(["a": 1])
            let cursor = try c.find(filter)
            #expect(try ids(cursor.all()) == [3, 4, 5])
            #expect(try c.explain(filter).description.contains("IXSCAN"))
            try c.dropIndex(.string("a_1"))
            #expect(try ids(c.find(filter).all()) == [3, 4, 5])
            #expect(try c.count(filter) == 3)
        }
    }

    @Test func droppedAndRecreatedCollectionIsReadUnderItsNewEntry() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "a": 1])
            try c.createIndex(["a": 1])
            #expect(try c.count(["a": 1]) == 1)
            #expect(try c.find(["a": 1]).all().count == 1)
            #expect(try db.dropCollection("c", in: "t"))
            #expect(try c.count(["a": 1]) == 0)
            #expect(try c.find(["a": 1]).all().isEmpty)
            try c.insertOne(["_id": 2, "a": 1])
            #expect(try ids(c.find(["a": 1]).all()) == [2])
            #expect(try c.count(["a": 1]) == 1)
        }
    }
}
