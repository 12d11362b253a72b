import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Compound indexes whose fields reach one array (`{"arr.b": 1, "arr.c": 1}` over an array of
/// subdocuments): entries pair the values of one element, and queries answer the same with and
/// without the index (SPEC.md §11.5, §11.6).
struct SharedArrayIndexTests {
    typealias Random = IndexEquivalenceTests.Random

    func entryValues(_ doc: Document, _ keys: Document) throws -> [[BSONValue]] {
        let spec = try IndexSpec(keys: keys, options: IndexOptions())
        return try IndexKeys.entries(doc, pk: [1], spec: spec).entries.map(\.values)
    }

    @Test func fieldsUnderOneArrayPairValuesOfOneElement() throws {
        let doc: Document = ["arr": [["b": 1, "c": 2], ["b": 3, "c": 4], 7, ["b": 1, "c": 2]]]
        let values = try entryValues(doc, ["arr.b": 1, "arr.c": 1])
        // One entry per element (duplicates once), never b of one element with c of another;
        // the scalar element has nothing under it.
        #expect(values == [[.int32(1), .int32(2)], [.int32(3), .int32(4)]])
        // A path ending at the array walks it in step with the paths below it.
        let whole = try entryValues(["arr": [["c": 5], 6]], ["arr": 1, "arr.c": 1])
        #expect(whole == [[.document(["c": 5]), .int32(5)], [.int32(6), .null]])
        // An array inside one element multiplies only that element's entries.
        let inner = try entryValues(["arr": [["b": [1, 2], "c": 3], ["b": 4, "c": 5]]], ["arr.b": 1, "arr.c": 1])
        #expect(inner == [[.int32(1), .int32(3)], [.int32(2), .int32(3)], [.int32(4), .int32(5)]])
        // A field outside the array is repeated in each entry.
        let outside = try entryValues(["x": 9, "arr": [["b": 1], ["c": 2]]], ["x": 1, "arr.b": 1, "arr.c": 1])
        #expect(outside == [[.int32(9), .int32(1), .null], [.int32(9), .null, .int32(2)]])
        #expect(try entryValues(["arr": []], ["arr.b": 1, "arr.c": 1]) == [[.null, .null]])
    }

    @Test func arraysAtDifferentPathsAreStillParallel() throws {
        for doc: Document in [
            ["arr": [["b": [1, 2], "c": [3, 4]]]],  // two arrays inside one element
            ["arr": [["b": 1]], "x": [1, 2]],
        ] {
            do {
                _ = try entryValues(doc, ["arr.b": 1, "arr.c": 1, "x": 1])
                Issue.record("expected CannotIndexParallelArrays for \(doc)")
            } catch let e as OsmanthusError {
                #expect(e.code.value == 171)
            }
        }
    }

    @Test func conditionsMetByDifferentElementsStillMatch() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.createIndex(["arr.b": 1, "arr.c": 1])
        try c.insertOne(["_id": 1, "arr": [["b": 3, "c": 6], ["b": 1, "c": 1]]])
        // b > 2 holds in the first element and c < 4 in the second: the document matches, though
        // no entry pairs them, so the index must not bound both fields.
        let f: Document = ["arr.b": ["$gt": 2], "arr.c": ["$lt": 4]]
        #expect(try c.count(f) == 1)
        #expect(try c.find(["arr.b": 3, "arr.c": 1]).all().count == 1)
        #expect(try c.find(["arr": ["$elemMatch": ["b": 3, "c": 1]]]).all().isEmpty)
        let ex = try c.explain(f)
        let plan = ex["queryPlanner"]?.documentValue?["winningPlan"]?.documentValue
        let ix = plan?["inputStage"]?.documentValue
        #expect(ix?["indexName"] == "arr.b_1_arr.c_1")
        #expect(ix?["isMultiKey"] == .bool(true))
        #expect(ix?["indexBounds"]?.documentValue?["arr.c"] == ["[MinKey, MaxKey]"])
    }

    static func element(_ r: inout Random) -> BSONValue {
        switch r.int(10) {
        case 0: return .int32(Int32(r.int(4)))  // a scalar element: nothing under it
        case 1: return ["b": .array((0..<r.int(3)).map { _ in .int32(Int32(r.int(4))) }), "c": .int32(Int32(r.int(4)))]
        case 2: return ["c": .int32(Int32(r.int(4)))]
        case 3: return ["b": .int32(Int32(r.int(4)))]
        default: return ["b": .int32(Int32(r.int(4))), "c": .int32(Int32(r.int(4)))]
        }
    }

    static func document(_ r: inout Random, id: Int) -> Document {
        var d: Document = ["_id": .int32(Int32(id))]
        switch r.int(8) {
        case 0: break
        case 1: d.append("arr", ["b": .int32(Int32(r.int(4))), "c": .int32(Int32(r.int(4)))])
        case 2: d.append("arr", .int32(Int32(r.int(4))))
        default: d.append("arr", .array((0..<r.int(4)).map { _ in element(&r) }))
        }
        if !r.chance(20) { d.append("x", .int32(Int32(r.int(3)))) }
        return d
    }

    static func condition(_ r: inout Random) -> BSONValue {
        let v = BSONValue.int32(Int32(r.int(4)))
        switch r.int(6) {
        case 0, 1: return v
        case 2: return ["$gt": v]
        case 3: return ["$gte": v, "$lte": .int32(Int32(r.int(4)))]
        case 4: return ["$in": [v, .int32(Int32(r.int(4)))]]
        default: return ["$lt": v]
        }
    }

    static func filter(_ r: inout Random) -> Document {
        var f = Document()
        for field in ["arr.b", "arr.c", "x"] where r.chance(55) { f.append(field, condition(&r)) }
        if r.chance(15) {
            f.append("arr", ["$elemMatch": ["b": condition(&r), "c": condition(&r)]])
        }
        return f
    }

    static let indexes: [Document] = [
        ["arr.b": 1, "arr.c": 1],
        ["arr.c": -1, "arr.b": 1],
        ["x": 1, "arr.b": 1, "arr.c": -1],
        ["arr": 1, "arr.c": 1],
    ]

    @Test(arguments: [21, 22])
    func queriesAgreeWithAndWithoutSharedArrayIndexes(seed: Int) throws {
        var r = Random(state: UInt64(seed))
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        for keys in Self.indexes.prefix(2) { try c.createIndex(keys) }
        try c.insertMany((0..<250).map { Self.document(&r, id: $0) })
        for keys in Self.indexes.dropFirst(2) { try c.createIndex(keys) }
        for i in 0..<50 {
            let id = BSONValue.int32(Int32(r.int(250)))
            switch i % 3 {
            case 0: try c.deleteOne(["_id": id])
            case 1: try c.updateOne(["_id": id], ["$set": ["arr": .array((0..<r.int(3)).map { _ in Self.element(&r) })]])
            default:  // a scalar or subdocument `arr` refuses $push; those documents stay
                _ = try? c.updateOne(["_id": id], ["$push": ["arr": Self.element(&r)]])
            }
        }
        let names = try c.listIndexes().compactMap { $0["name"]?.stringValue }.filter { $0 != "_id_" }
        #expect(names.count == Self.indexes.count)
        for q in 0..<80 {
            let f = Self.filter(&r)
            let context = "seed \(seed) query \(q): filter \(f)"
            let expected = try c.find(f, options: FindOptions(hint: ["$natural": 1])).all()
            let ids = expected.map { "\($0["_id"] ?? .null)" }.sorted()
            #expect(try c.count(f) == expected.count, "count: \(context)")
            var runs = [("planner", try c.find(f).all())]
            for name in names { runs.append((name, try c.find(f, options: FindOptions(hint: .string(name))).all())) }
            for (how, got) in runs {
                #expect(got.map { "\($0["_id"] ?? .null)" }.sorted() == ids, "\(how): \(context)")
            }
        }
    }
}
