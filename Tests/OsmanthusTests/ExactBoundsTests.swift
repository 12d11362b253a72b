import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Index plans whose bounds are exact skip the per-entry filter and count from keys alone; the
/// values that break exactness (Decimal128 next to a bound, NaN, `$gt`, descending one-sided
/// ranges) must still give the collection scan's answer.
struct ExactBoundsTests {
    /// Values next to the bounds 3 and 5, including ones whose key equals a bound's key.
    static func values() throws -> [BSONValue] {
        [
            .int32(2), .int32(3), .int32(4), .int32(5), .int32(6), .int64(3), .double(3.0), .double(4.5),
            .double(.nan), .double(-.infinity), .double(.infinity),
            .decimal128(try Decimal128("2.99999999999999999999")), .decimal128(try Decimal128("3.00000000000000000001")),
            .decimal128(try Decimal128("4.99999999999999999999")), .decimal128(try Decimal128("5.00000000000000000001")),
            .decimal128(try Decimal128("3")), .string("3"), .string("a"), .string("b"), .null,
            .int64(9_007_199_254_740_993), .int64(9_007_199_254_740_992),
        ]
    }

    static let filters: [Document] = [
        ["v": ["$gte": .int32(3), "$lte": .int32(5)]],
        ["v": ["$gte": .int32(3), "$lt": .int32(5)]],
        ["v": ["$gt": .int32(3), "$lte": .int32(5)]],
        ["v": ["$lt": .int32(5)]],
        ["v": ["$lte": .int32(3)]],
        ["v": ["$gte": .int32(5)]],
        ["v": ["$gte": .double(3.0)]],
        ["v": .int32(3)],
        ["v": ["$in": [.int32(3), .int32(5)]]],
        ["v": ["$gte": .string("a")]],
        ["v": ["$gte": .int64(9_007_199_254_740_993)]],
        ["v": .int64(9_007_199_254_740_992)],
        ["k": .int32(1), "v": ["$gte": .int32(3), "$lte": .int32(5)]],
        ["k": ["$in": [.int32(0), .int32(1)]], "v": ["$lt": .int32(5)]],
    ]

    @Test(arguments: [["k": 1, "v": 1] as Document, ["k": 1, "v": -1], ["v": 1], ["v": -1]])
    func exactPlansAgreeWithCollectionScan(keys: Document) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.createIndex(keys)
        var docs: [Document] = []
        for (i, v) in try Self.values().enumerated() {
            docs.append(["_id": .int32(Int32(i)), "k": .int32(Int32(i % 2)), "v": v])
        }
        docs.append(["_id": .int32(1000), "k": .int32(1)])  // v missing
        try c.insertMany(docs)
        for f in Self.filters {
            let expected = try c.find(f, options: FindOptions(hint: ["$natural": 1])).all().map { "\($0)" }.sorted()
            let hinted = try c.find(f, options: FindOptions(hint: .document(keys))).all().map { "\($0)" }.sorted()
            #expect(hinted == expected, "find \(f) on \(keys)")
            #expect(try c.count(f) == expected.count, "count \(f) on \(keys)")
        }
    }

    @Test func exactnessNeedsEveryConditionInTheBounds() throws {
        let spec = try IndexSpec(keys: ["k": 1, "v": 1], options: IndexOptions())
        func exact(_ f: Document) throws -> Bool {
            let filter = try Filter(f)
            let bounds = IndexBounds(spec: spec, conditions: FieldCondition.extract(filter))
            return ExactBounds.isExact(filter, spec: spec, bounds: bounds)
        }
        #expect(try exact(["k": .int32(1)]))
        #expect(try exact(["k": .int32(1), "v": ["$gte": .int32(2), "$lte": .int32(4)]]))
        #expect(try exact(["k": ["$in": [.int32(1), .string("x")]], "v": ["$lte": .int32(4)]]))
        // A field the bounds do not reach, a second range field, `$gt`, a value whose key is not
        // exact, or an operator the bounds ignore: the filter must run.
        #expect(try !exact(["v": ["$gte": .int32(2)]]))
        #expect(try !exact(["k": ["$gte": .int32(1)], "v": .int32(2)]))
        #expect(try !exact(["k": ["$gt": .int32(1)]]))
        #expect(try !exact(["k": .int32(1), "v": ["$lt": .int32(4)]]))
        #expect(try !exact(["k": .decimal128(try Decimal128("1"))]))
        #expect(try !exact(["k": .int32(1), "z": .int32(1)]))
        #expect(try !exact(["k": ["$ne": .int32(1)]]))
        #expect(try !exact(["k": .int32(1), "$or": [["v": .int32(1)], ["v": .int32(2)]]]))
    }

    @Test func entryScanFindsDecimalAndNaNValues() throws {
        let spec = try IndexSpec(keys: ["a": 1, "b": 1], options: IndexOptions())
        func clean(_ doc: Document) throws -> Bool {
            let entries = try IndexKeys.entries(doc, pk: [1, 2, 3][...], spec: spec).entries
            return entries.allSatisfy { e in e.value.withUnsafeBytes { ExactBounds.entryIsExact($0) } }
        }
        #expect(try clean(["a": .int32(1), "b": .string("x")]))
        #expect(try clean(["a": .double(2.5)]))
        #expect(try clean(["a": .document(["x": .int32(1)]), "b": .bool(true)]))
        #expect(try !clean(["a": .int32(1), "b": .decimal128(try Decimal128("1.5"))]))
        #expect(try !clean(["a": .double(.nan)]))
    }
}
