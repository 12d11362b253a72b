import OsmanthusBSON
import Testing

@testable import Osmanthus

/// `findOne(byId:)` and the `{_id: v}` fast path of `findOne` must answer exactly what a query
/// through Filter and Cursor answers.
struct PointReadTests {
    func withCollection(_ body: (Osmanthus.Collection) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        try body(db.collection("c", in: "t"))
        try db.close()
    }

    /// The slow path: a filter the fast path does not take (`$eq` spelled out) through `find`.
    func viaQuery(_ c: Osmanthus.Collection, _ id: BSONValue) throws -> [Document] {
        try c.find(["_id": ["$eq": id]]).all()
    }

    @Test func pointReadsAgreeWithQueriesAcrossIdTypes() throws {
        try withCollection { c in
            let ids: [BSONValue] = [
                .int32(5), .int64(1 << 40), .double(2.5), .string("doc7"), .objectId(ObjectId()), .bool(true),
                .datetime(12345), .timestamp(increment: 1, seconds: 2), .binary(BSONBinary(data: [1, 2])),
                .decimal128(Decimal128(9)), .document(["a": 1]), .null,
            ]
            for (i, id) in ids.enumerated() { try c.insertOne(["_id": id, "n": .int32(Int32(i))]) }
            // Asked as stored, as another numeric type, and values that are absent.
            let probes: [BSONValue] =
                ids + [
                    .int64(5), .double(5), .decimal128(Decimal128(5)), .int32(9), .double(Double(1 << 40)), .string("doc8"),
                    .double(.nan), .bool(false), .minKey, .maxKey,
                ]
            for probe in probes {
                let expected = try viaQuery(c, probe)
                #expect(expected.count <= 1)
                #expect(try c.findOne(["_id": probe]) == expected.first, "findOne {_id: \(probe)}")
                #expect(try c.findOne(byId: probe) == expected.first, "findOne(byId: \(probe))")
            }
            #expect(try c.findOne(byId: .int64(5))?["n"] == .int32(0))
            #expect(try c.findOne(["_id": .string("missing")]) == nil)
        }
    }

    @Test func aDecimalSharingAKeyWithAnIntegerIsNotReturnedForIt() throws {
        try withCollection { c in
            // Placed by its nearest double (5.0), so it has the key of 5: equality must be checked.
            let near = try Decimal128("5.00000000000000000001")
            try c.insertOne(["_id": .decimal128(near)])
            let asInt = try c.findOne(byId: .int32(5))
            let asDecimal = try c.findOne(byId: .decimal128(near))
            let viaQuery = try viaQuery(c, .int32(5))
            #expect(asInt == nil)
            #expect(viaQuery.isEmpty)
            #expect(asDecimal?["_id"] == .decimal128(near))
        }
    }

    /// An integral decimal beyond 2^53 is keyed as the equal int64, not as its nearest double:
    /// it finds that int64, collides with it as a duplicate `_id`, and not with its neighbour.
    @Test func anIntegralDecimalBeyondTwoToThe53FindsTheEqualInt64() throws {
        try withCollection { c in
            let big: Int64 = 9_007_199_254_740_993  // 2^53 + 1: its nearest double is 2^53
            try c.insertOne(["_id": .int64(big), "n": 1])
            let probes = ["9007199254740993", "9007199254740993.000", "9.007199254740993E+15"]
            for text in probes {
                let probe = BSONValue.decimal128(try Decimal128(text))
                #expect(try c.findOne(byId: probe)?["n"] == .int32(1), "findOne(byId: \(text))")
                #expect(try c.findOne(["_id": probe])?["n"] == .int32(1), "findOne {_id: \(text)}")
                #expect(try viaQuery(c, probe).count == 1, "query {_id: {$eq: \(text)}}")
            }
            #expect(try c.findOne(byId: .decimal128(try Decimal128("9007199254740992"))) == nil)
            #expect(throws: OsmanthusError.self) {
                try c.insertOne(["_id": .decimal128(try Decimal128("9007199254740993")), "n": 2])
            }
            try c.insertOne(["_id": .decimal128(try Decimal128("9007199254740992")), "n": 3])
            #expect(try c.findOne(byId: .int64(big - 1))?["n"] == .int32(3))
            #expect(try c.count() == 2)
        }
    }

    @Test func anIdRangeKeepsADecimalJustBelowItsBound() throws {
        try withCollection { c in
            // Below 5 but placed by its nearest double (5.0): it shares the key of 5.
            let below = try Decimal128("4.99999999999999999999")
            // (An _id of 5 would be the same primary key, so it cannot be stored beside it.)
            try c.insertOne(["_id": .decimal128(below)])
            try c.insertOne(["_id": .int32(3)])
            try c.insertOne(["_id": .int32(7)])
            let lt = try c.find(["_id": ["$lt": 5]]).map { $0["_id"] }
            #expect(lt == [.int32(3), .decimal128(below)])
            let lte = try c.find(["_id": ["$lte": 5]]).map { $0["_id"] }
            #expect(lte == [.int32(3), .decimal128(below)])
            let gte = try c.find(["_id": ["$gte": 5]]).map { $0["_id"] }
            #expect(gte == [.int32(7)])
        }
    }

    @Test func pointReadOfAMissingCollectionIsNil() throws {
        try withCollection { c in
            let byId = try c.findOne(byId: .int32(1))
            let byFilter = try c.findOne(["_id": .int32(1)])
            #expect(byId == nil)
            #expect(byFilter == nil)
        }
    }

    @Test func onlyPlainIdEqualitiesTakeTheFastPath() {
        #expect(Collection.idEqualityValue(["_id": .int32(1)]) == .int32(1))
        #expect(Collection.idEqualityValue(["_id": .string("a")]) == .string("a"))
        #expect(Collection.idEqualityValue(["_id": ["$gt": 1]]) == nil)
        #expect(Collection.idEqualityValue(["_id": .int32(1), "a": .int32(2)]) == nil)
        #expect(Collection.idEqualityValue(["a": .int32(1)]) == nil)
        #expect(Collection.idEqualityValue(["_id": .array([.int32(1)])]) == nil)
        #expect(Collection.idEqualityValue(["_id": .null]) == nil)
        #expect(Collection.idEqualityValue(["_id": .double(.nan)]) == nil)
        #expect(Collection.idEqualityValue(["_id": .regex(pattern: "a", options: "")]) == nil)
        #expect(Collection.idEqualityValue([:]) == nil)
    }

    @Test func insertKeepsADocumentWhoseIdLeadsAndRebuildsOthers() throws {
        let leading: Document = ["_id": .int32(1), "a": .int32(2)]
        #expect(try Collection.prepareForInsert(leading).bytes == leading.bytes)
        let trailing: Document = ["a": .int32(2), "_id": .int32(1)]
        #expect(try Collection.prepareForInsert(trailing).keys == ["_id", "a"])
        let twice = Document([("_id", .int32(1)), ("a", .int32(2)), ("_id", .int32(3))])
        #expect(try Collection.prepareForInsert(twice) == ["_id": .int32(1), "a": .int32(2)])
        #expect(throws: OsmanthusError.self) {
            try Collection.prepareForInsert(["_id": .array([.int32(1)]), "a": .int32(2)])
        }
    }
}

/// The in-place comparison of top-level fields (`MatchNode.compareInPlace`) against the general
/// path walk with `LeafPredicate.compare` on decoded values.
struct InPlaceMatchTests {
    static func randomValue(_ random: inout SplitMix64) -> BSONValue {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return .int32(Int32.random(in: -3...3, using: &random))
        case 1: return .int64(Int64.random(in: -3...3, using: &random))
        case 2: return .double(Double(Int.random(in: -6...6, using: &random)) / 2)
        case 3: return .double(.nan)
        case 4: return .string(["", "a", "ab", "b"][Int.random(in: 0..<4, using: &random)])
        case 5: return .decimal128(Decimal128(Int64.random(in: -3...3, using: &random)))
        case 6: return .null
        case 7: return .bool(true)
        case 8: return .array([.int32(Int32.random(in: -3...3, using: &random)), .string("a")])
        default: return .document(["a": .int32(1)])
        }
    }

    @Test func filtersOnTopLevelFieldsAgreeWithTheGeneralWalk() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        let ops: [(String, ComparisonOperator)] = [("$eq", .eq), ("$lt", .lt), ("$lte", .lte), ("$gt", .gt), ("$gte", .gte)]
        for _ in 0..<3000 {
            var doc = Document()
            for key in ["a", "b"] where Int.random(in: 0..<4, using: &random) > 0 {
                doc.append(key, Self.randomValue(&random))
            }
            let field = Bool.random(using: &random) ? "a" : "b"
            let (name, op) = ops[Int.random(in: 0..<ops.count, using: &random)]
            let value = Self.randomValue(&random)
            let expected = PathTraversal.anyCandidate(in: doc, path: [field][...], leafArrays: .traverse) { v, _ in
                LeafPredicate.compare(v, op, value)
            }
            let filter = try Filter([field: [name: value]])
            #expect(filter.matches(doc) == expected, "seed \(seed): \(doc) \(field) \(name) \(value)")
        }
    }
}
