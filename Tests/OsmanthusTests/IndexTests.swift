import OsmanthusBSON
import OsmanthusStorage
import Synchronization
import Testing

@testable import Osmanthus

struct IndexTests {
    func withDatabase(_ body: (Database) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        try body(db)
        try db.close()
    }

    func winningStage(_ explain: Document) -> Document? {
        explain["queryPlanner"]?.documentValue?["winningPlan"]?.documentValue
    }

    /// The stage names from the top of the winning plan down.
    func stages(_ explain: Document) -> [String] {
        var out: [String] = []
        var stage = winningStage(explain)
        while let s = stage {
            out.append(s["stage"]?.stringValue ?? "?")
            stage = s["inputStage"]?.documentValue
        }
        return out
    }

    @Test func createListAndDropIndexes() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "name": "x"])
            #expect(try c.createIndex(["name": 1]) == "name_1")
            #expect(try c.createIndex(["a": 1, "b": -1], options: IndexOptions(unique: true, sparse: true)) == "a_1_b_-1")
            let list = try c.listIndexes()
            #expect(list.map { $0["name"]?.stringValue } == ["_id_", "name_1", "a_1_b_-1"])
            #expect(list[2]["key"] == .document(["a": .int32(1), "b": .int32(-1)]))
            #expect(list[2]["unique"] == .bool(true) && list[2]["sparse"] == .bool(true))
            // Same again: nothing to do; same name other keys: 86; same keys other name: 85.
            #expect(try c.createIndex(["name": 1]) == "name_1")
            #expect(throws: OsmanthusError.self) { try c.createIndex(["other": 1], options: IndexOptions(name: "name_1")) }
            do {
                try c.createIndex(["other": 1], options: IndexOptions(name: "name_1"))
            } catch let e as OsmanthusError { #expect(e.code.value == 86) }
            do {
                try c.createIndex(["name": 1], options: IndexOptions(name: "byName"))
                Issue.record("expected IndexOptionsConflict")
            } catch let e as OsmanthusError { #expect(e.code.value == 85) }
            try c.dropIndex(.document(["a": 1, "b": -1]))
            #expect(try c.listIndexes().count == 2)
            do {
                try c.dropIndex(.string("nope"))
                Issue.record("expected IndexNotFound")
            } catch let e as OsmanthusError { #expect(e.code.value == 27) }
            try c.dropIndexes()
            #expect(try c.listIndexes().count == 1)
        }
    }

    @Test func indexMetadataSurvivesReopen() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        do {
            let db = try Database.open(at: dir.path)
            let c = db.collection("c", in: "t")
            try c.insertMany((0..<50).map { ["_id": .int32($0), "v": .int32($0 % 7)] })
            try c.createIndex(["v": -1], options: IndexOptions(partialFilterExpression: ["v": ["$gt": 1]]))
            try db.close()
        }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        let list = try c.listIndexes()
        #expect(list.count == 2)
        #expect(list[1]["partialFilterExpression"] == .document(["v": ["$gt": 1]]))
        let found = try c.find(["v": 3]).all()
        #expect(found.count == (0..<50).filter { $0 % 7 == 3 }.count)
        #expect(stages(try c.explain(["v": 3])).contains("IXSCAN"))
        try db.close()
    }

    @Test func uniqueViolationFailsWholeWriteWithDetails() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.createIndex(["name": 1], options: IndexOptions(unique: true))
            try c.insertOne(["_id": 1, "name": "x"])
            do {
                try c.insertOne(["_id": 2, "name": "x"])
                Issue.record("expected DuplicateKey")
            } catch let e as OsmanthusError {
                #expect(e.code.value == 11000)
                #expect(e.message.contains("index: name_1 dup key"))
                #expect(e.info?["keyPattern"] == .document(["name": .int32(1)]))
                #expect(e.info?["keyValue"] == .document(["name": "x"]))
            }
            #expect(try c.count() == 1)
            // An update onto a taken key fails and changes nothing.
            try c.insertOne(["_id": 3, "name": "y"])
            #expect(throws: OsmanthusError.self) { try c.updateOne(["_id": 3], ["$set": ["name": "x"]]) }
            #expect(try c.findOne(["_id": 3])?["name"] == "y")
            // Moving a key away frees it.
            try c.updateOne(["_id": 1], ["$set": ["name": "z"]])
            try c.insertOne(["_id": 4, "name": "x"])
            #expect(try c.find(["name": "x"]).all().map { $0["_id"] } == [.int32(4)])
            // Ordered insertMany stops at the duplicate, keeping what came before.
            let r = try c.insertMany([["_id": 5, "name": "p"], ["_id": 6, "name": "x"], ["_id": 7, "name": "q"]])
            #expect(r.errors.map(\.index) == [1])
            #expect(try c.count(["_id": ["$in": [5, 6, 7]]]) == 1)
            let u = try c.insertMany([["_id": 8, "name": "x"], ["_id": 9, "name": "r"]], ordered: false)
            #expect(u.errors.map(\.index) == [0])
            #expect(try c.count(["_id": 9]) == 1)
            // Two documents missing the field collide on null.
            try c.insertOne(["_id": 10])
            #expect(throws: OsmanthusError.self) { try c.insertOne(["_id": 11]) }
        }
    }

    @Test func concurrentInsertsOfOneUniqueKeyHaveOneWinner() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.createIndex(["k": 1], options: IndexOptions(unique: true))
            for round in 0..<20 {
                let wins = Atomic<Int>(0)
                try runConcurrently(4) { t in
                    if (try? c.insertOne(["_id": .int32(Int32(round * 10 + t)), "k": .int32(Int32(round))])) != nil {
                        wins.add(1, ordering: .relaxed)
                    }
                }
                #expect(wins.load(ordering: .relaxed) == 1)
                #expect(try c.count(["k": .int32(Int32(round))]) == 1)
            }
        }
    }

    @Test func multikeyIndexFindsElementsOnceAndRefusesParallelArrays() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.createIndex(["tags": 1])
            try c.insertOne(["_id": 1, "tags": ["a", "b", "a"]])
            try c.insertOne(["_id": 2, "tags": "b"])
            try c.insertOne(["_id": 3, "tags": []])
            #expect(try c.find(["tags": "b"]).all().count == 2)
            #expect(try c.find(["tags": ["$in": ["a", "b"]]]).all().count == 2)
            #expect(try c.listIndexes().count == 2)
            let ex = try c.explain(["tags": "a"])
            #expect(stages(ex) == ["FETCH", "IXSCAN"])
            try c.createIndex(["x": 1, "y": 1])
            do {
                try c.insertOne(["_id": 4, "x": [1, 2], "y": [3, 4]])
                Issue.record("expected CannotIndexParallelArrays")
            } catch let e as OsmanthusError { #expect(e.code.value == 171) }
            #expect(try c.count(["_id": 4]) == 0)
            // The update path removes old entries.
            try c.updateOne(["_id": 1], ["$set": ["tags": ["c"]]])
            #expect(try c.find(["tags": "a"]).all().isEmpty)
            try c.deleteOne(["_id": 2])
            #expect(try c.find(["tags": "b"]).all().isEmpty)
        }
    }

    @Test func sparseAndPartialIndexesHoldOnlyTheirDocuments() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.createIndex(["s": 1], options: IndexOptions(unique: true, sparse: true))
            try c.insertMany([["_id": 1], ["_id": 2], ["_id": 3, "s": 1]])  // missing fields: no entries
            #expect(throws: OsmanthusError.self) { try c.insertOne(["_id": 4, "s": 1]) }
            try c.createIndex(["p": 1], options: IndexOptions(unique: true, partialFilterExpression: ["p": ["$gt": 10]]))
            try c.insertMany([["_id": 5, "p": 1], ["_id": 6, "p": 1], ["_id": 7, "p": 20]])
            #expect(throws: OsmanthusError.self) { try c.insertOne(["_id": 8, "p": 20]) }
            #expect(stages(try c.explain(["p": 20])).contains("IXSCAN"))
            // p: 1 is outside the partial filter: the index cannot answer it.
            #expect(stages(try c.explain(["p": 1])) == ["COLLSCAN"])
            #expect(try c.count(["p": 1]) == 2)
        }
    }

    @Test func plannerUsesBoundsSortsAndCovers() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertMany((0..<200).map { ["_id": .int32($0), "a": .int32($0 % 10), "b": .int32($0), "s": .string("k\($0)")] })
            try c.createIndex(["a": 1, "b": -1])
            let ex = try c.explain(["a": 3, "b": ["$gte": 50]])
            #expect(stages(ex) == ["FETCH", "IXSCAN"])
            let stats = ex["executionStats"]?.documentValue
            #expect(stats?["nReturned"] == .int64(15))
            #expect(stats?["totalDocsExamined"] == .int64(15))
            // The index gives the order {b: -1} after a: 3, and backwards {b: 1}.
            let down: [BSONValue?] = try c.find(["a": 3], options: FindOptions(sort: ["b": -1])).all().map { $0["b"] }
            let expected: [BSONValue?] = (0..<200).filter { $0 % 10 == 3 }.reversed().map { BSONValue.int32(Int32($0)) }
            #expect(down == expected)
            #expect(!stages(try c.explain(["a": 3], options: FindOptions(sort: ["b": -1]))).contains("SORT"))
            let up = try c.find(["a": 3], options: FindOptions(sort: ["b": 1])).all().map { $0["b"] }
            #expect(up == down.reversed())
            let back = winningStage(try c.explain(["a": 3], options: FindOptions(sort: ["b": 1])))
            #expect(back?["inputStage"]?.documentValue?["direction"] == "backward")
            // $in: several intervals.
            #expect(try c.count(["a": ["$in": [1, 2]], "b": ["$lt": 100]]) == 20)
            // Covered: no document read.
            let cov = try c.explain(["a": 4], options: FindOptions(projection: ["_id": 0, "a": 1, "b": 1]))
            #expect(stages(cov) == ["PROJECTION_COVERED", "IXSCAN"])
            #expect(cov["executionStats"]?.documentValue?["totalDocsExamined"] == .int64(0))
            let rows = try c.find(["a": 4], options: FindOptions(projection: ["_id": 0, "a": 1, "b": 1])).all()
            #expect(rows.count == 20 && rows.allSatisfy { $0.keys == ["a", "b"] && $0["a"] == .int32(4) })
            // Unindexed field: a scan; hint forces the index.
            #expect(stages(try c.explain(["s": "k5"])) == ["COLLSCAN"])
            let hinted = try c.explain(["s": "k5"], options: FindOptions(hint: .string("a_1_b_-1")))
            #expect(stages(hinted) == ["FETCH", "IXSCAN"])
            #expect(try c.find(["s": "k5"], options: FindOptions(hint: .document(["a": 1, "b": -1]))).all().count == 1)
            #expect(throws: OsmanthusError.self) { try c.find(["s": "k5"], options: FindOptions(hint: .string("zz"))) }
            // _id equality stays a point read.
            #expect(stages(try c.explain(["_id": 5, "a": 5])) == ["IDHACK"])
            #expect((ex["queryPlanner"]?.documentValue?["rejectedPlans"]?.arrayValue) != nil)
        }
    }

    @Test func droppingTheCollectionRemovesIndexEntries() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.createIndex(["a": 1])
            try c.insertMany((0..<10).map { ["_id": .int32($0), "a": .int32($0)] })
            try db.dropCollection("c", in: "t")
            let it = db.engine.makeIterator()
            it.seek([IndexFormat.entrySpace])
            #expect(!(it.isValid && it.key.first == IndexFormat.entrySpace))
            #expect(try c.listIndexes().count == 1)
        }
    }

    /// The worked example of SPEC.md §11.5, byte for byte.
    @Test func entryLayoutMatchesTheSpecExample() throws {
        var spec = try IndexSpec(keys: ["name": 1, "age": -1], options: IndexOptions())
        spec.collectionId = 3
        spec.id = 7
        let pk: [UInt8] = [0x10, 0xBF, 0xF0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]
        let (entries, multikey) = try IndexKeys.entries(["_id": 1, "name": "ab", "age": 5], pk: pk[...], spec: spec)
        #expect(!multikey && entries.count == 1)
        let expectedKey: [UInt8] = [0x11, 0, 0, 0, 3, 0, 0, 0, 7, 0x20, 0x61, 0x62, 0x00, 0x01,
                                    0xEF, 0x3F, 0xEB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + pk
        #expect(entries.first?.key == expectedKey)
        let expectedValue: [UInt8] = [0, 0, 0, 17] + pk + (["0": "ab", "1": 5] as Document).bytes
        #expect(entries.first?.value == expectedValue)
        #expect(try IndexKeys.coveredDocument(fromValue: expectedValue, spec: spec) == ["name": "ab", "age": 5])
    }
}
