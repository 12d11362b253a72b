import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

struct CollectionTests {
    func withDatabase(_ body: (Database) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        try body(db)
        try db.close()
    }

    @Test func insertGeneratesIdFirstAndFindsById() throws {
        try withDatabase { db in
            let users = db.collection("users", in: "app")
            let id = try users.insertOne(["name": "Ada", "age": 36])
            guard case .objectId = id else {
                Issue.record("expected an ObjectId, got \(id)")
                return
            }
            let found = try users.findOne(["_id": id])
            #expect(found?.keys == ["_id", "name", "age"])
            #expect(found?["name"] == "Ada")
        }
    }

    @Test func duplicateIdIsDuplicateKeyWithPatternAndValue() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "x": 1])
            #expect {
                try c.insertOne(["_id": 1.0, "x": 2])
            } throws: { e in
                guard let e = e as? OsmanthusError else { return false }
                return e.code.value == 11000 && e.info?["keyValue"] == .document(["_id": 1.0])
            }
            #expect(try c.count() == 1)
        }
    }

    @Test func filterSortSkipLimitAndProjection() throws {
        try withDatabase { db in
            let c = db.collection("people", in: "t")
            for i in 0..<20 { try c.insertOne(["_id": .int32(Int32(i)), "age": .int32(Int32(i % 5)), "name": .string("p\(i)")]) }
            let docs = try c.find(
                ["age": ["$gte": 3]], options: FindOptions(sort: ["age": -1, "_id": 1], projection: ["name": 1], skip: 1, limit: 3)
            ).all()
            #expect(docs == [["_id": 9, "name": "p9"], ["_id": 14, "name": "p14"], ["_id": 19, "name": "p19"]])
            #expect(try c.count(["age": 0]) == 4)
            #expect(try c.distinct("age") == [0, 1, 2, 3, 4])
        }
    }

    @Test func projectionOfOnlyIdKeepsOnlyId() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "a": 2, "b": 3])
            #expect(try c.findOne([:], options: FindOptions(projection: ["_id": 1])) == ["_id": 1])
            #expect(try c.findOne([:], options: FindOptions(projection: ["_id": 0])) == ["a": 2, "b": 3])
            #expect(try c.findOne([:], options: FindOptions(projection: ["_id": 0, "a": 1])) == ["a": 2])
        }
    }

    /// `_id` ranges are read as key ranges; the same filter inside `$and` is a full scan. Both must
    /// return the same documents for bounds of every type against mixed-type ids.
    @Test func idRangeScansReturnWhatAFullScanReturns() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            var ids: [BSONValue] = []
            for i in 0..<60 {
                ids.append(.int32(Int32(i - 20)))
                ids.append(.double(Double(i) + 0.5))
                ids.append(.string("k\(i)"))
            }
            ids.append(.int64(9_007_199_254_740_993))
            ids.append(.bool(true))
            ids.append(.objectId(ObjectId()))
            for id in ids { try c.insertOne(["_id": id]) }
            var rng = SystemRandomNumberGenerator()
            let bounds: [BSONValue] = [.int32(-5), .int32(0), .double(7.5), .int64(30), .int64(9_007_199_254_740_992),
                                       .string("k1"), .string("k25"), .string(""), .bool(false)]
            for _ in 0..<200 {
                var ops = Document()
                for op in ["$gt", "$gte", "$lt", "$lte"] where Bool.random(using: &rng) {
                    ops.append(op, bounds.randomElement(using: &rng) ?? .int32(0))
                }
                if ops.isEmpty { ops.append("$gte", .int32(3)) }
                let viaRange = try c.find(["_id": .document(ops)]).all()
                let viaScan = try c.find(["$and": [["_id": .document(ops)]]]).all()
                #expect(viaRange == viaScan, "\(ops)")
                #expect(try c.count(["_id": .document(ops)]) == viaScan.count)
            }
            #expect(try c.find(["_id": ["$gte": 10, "$lt": 13]]).all().map { $0["_id"] } == [10, 10.5, 11, 11.5, 12, 12.5])
            #expect(try c.delete(["_id": ["$gt": "k5"]]) == ids.filter { if case .string(let s) = $0 { s > "k5" } else { false } }.count)
        }
    }

    @Test func updateUpsertReplaceAndDelete() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertMany([["_id": 1, "n": 1], ["_id": 2, "n": 2], ["_id": 3, "n": 3]])
            var r = try c.updateMany(["n": ["$gte": 2]], ["$inc": ["n": 10]])
            #expect(r == UpdateResult(matchedCount: 2, modifiedCount: 2))
            r = try c.updateOne(["_id": 7], ["$set": ["n": 7]], upsert: true)
            #expect(r.upsertedId == 7)
            #expect(try c.findOne(["_id": 7]) == ["_id": 7, "n": 7])
            r = try c.replaceOne(["_id": 1], ["m": 1])
            #expect(try c.findOne(["_id": 1]) == ["_id": 1, "m": 1])
            #expect {
                try c.updateOne(["_id": 1], ["$set": ["_id": 5]])
            } throws: { ($0 as? OsmanthusError)?.code.value == 66 }
            #expect(try c.deleteOne(["n": ["$gt": 5]]) == 1)
            #expect(try c.deleteMany([:]) == 3)
            #expect(try c.count() == 0)
        }
    }

    @Test func findAndModifyReturnsBeforeOrAfter() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "v": 1])
            let before = try c.findAndModify(["_id": 1], options: FindAndModifyOptions(update: ["$inc": ["v": 1]]))
            #expect(before.value == ["_id": 1, "v": 1])
            let after = try c.findAndModify(
                ["_id": 1], options: FindAndModifyOptions(update: ["$inc": ["v": 1]], returnNew: true))
            #expect(after.value == ["_id": 1, "v": 3])
            let removed = try c.findAndModify(["_id": 1], options: FindAndModifyOptions(remove: true))
            #expect(removed.value == ["_id": 1, "v": 3])
            #expect(try c.count() == 0)
        }
    }

    @Test func catalogSurvivesReopenAndDropRenameWork() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        do {
            let db = try Database.open(at: dir.path)
            try db.collection("a", in: "x").insertOne(["_id": 1])
            try db.collection("b", in: "x").insertOne(["_id": 2])
            try db.createCollection("events", in: "y", options: CollectionOptions(partitionKey: "user", sortKey: "ts"))
            #expect {
                try db.createCollection("events", in: "y")
            } throws: { ($0 as? OsmanthusError)?.code.value == 48 }
            try db.close()
        }
        let db = try Database.open(at: dir.path)
        #expect(try db.listCollections(in: "x").map(\.name) == ["a", "b"])
        #expect(try db.listDatabases().map(\.name) == ["x", "y"])
        try db.renameCollection("a", in: "x", to: "c", in: "x")
        #expect(try db.collection("c", in: "x").findOne() == ["_id": 1])
        #expect(try db.collection("a", in: "x").count() == 0)
        #expect(try db.dropCollection("b", in: "x"))
        #expect(try db.dropCollection("b", in: "x") == false)
        #expect(try db.listCollections(in: "x").map(\.name) == ["c"])
        try db.close()
    }

    @Test func partitionedCollectionKeepsItemsOfOneKeyTogetherInSortKeyOrder() throws {
        try withDatabase { db in
            let events = try db.createCollection(
                "events", in: "app", options: CollectionOptions(partitionKey: "user", sortKey: "ts", partitions: 8))
            for u in ["u1", "u2", "u3"] {
                for ts in [5, 3, 9, 1] {
                    try events.insertOne(["user": .string(u), "ts": .int32(Int32(ts)), "v": .string("\(u)-\(ts)")])
                }
            }
            let mine = try events.find(["user": "u2"]).all()
            #expect(mine.map { $0["ts"] } == [1, 3, 5, 9])
            #expect(try events.find(["user": "u2", "ts": ["$gt": 3]]).all().count == 2)
            #expect {
                try events.insertOne(["user": "u2", "ts": 3])
            } throws: { ($0 as? OsmanthusError)?.code.value == 11000 }
            #expect {
                try events.updateOne(["user": "u1", "ts": 1], ["$set": ["user": "u9"]])
            } throws: { ($0 as? OsmanthusError)?.code.value == 66 }
            #expect(PrimaryKey.partition(of: "u1", partitions: 8) < 8)
        }
    }

    @Test func cursorSeesASnapshotWhileWritesContinue() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            for i in 0..<10 { try c.insertOne(["_id": .int32(Int32(i))]) }
            let cursor = try c.find()
            _ = try cursor.next()
            for i in 10..<20 { try c.insertOne(["_id": .int32(Int32(i))]) }
            try c.deleteMany(["_id": ["$lt": 5]])
            let rest = try cursor.all()
            #expect(rest.count == 9)
            #expect(try c.count() == 15)
        }
    }

    @Test func concurrentInsertsOfTheSameIdHaveExactlyOneWinner() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            let wins = Counter()
            try runConcurrently(8) { _ in
                for i in 0..<50 {
                    do {
                        try c.insertOne(["_id": .int32(Int32(i))])
                        wins.add()
                    } catch let e as OsmanthusError where e.code.value == 11000 {}
                }
            }
            #expect(wins.value == 50)
            #expect(try c.count() == 50)
        }
    }
}
