import Testing

@testable import OsmanthusBSON

/// `Document(trustedBytes:)` (stored bytes, framing checked only) must read exactly what the
/// validating `Document(bytes:)` reads, and still refuse bytes that are not framed as BSON.
struct TrustedBytesTests {
    /// A random value of every common type, nesting documents and arrays up to `depth`.
    static func randomValue(_ random: inout SplitMix64, depth: Int) -> BSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 14 : 12), using: &random) {
        case 0: return .int32(Int32.random(in: -1000...1000, using: &random))
        case 1: return .int64(Int64.random(in: Int64.min...Int64.max, using: &random))
        case 2: return .double(Double.random(in: -1e6...1e6, using: &random))
        case 3: return .string(randomKey(&random) + "é✓")
        case 4: return .bool(Bool.random(using: &random))
        case 5: return .null
        case 6: return .objectId(ObjectId(seconds: UInt32.random(in: 0...UInt32.max, using: &random), processUnique: 7, counter: 9))
        case 7: return .datetime(Int64.random(in: -1_000_000...1_000_000, using: &random))
        case 8: return .binary(BSONBinary(data: (0..<Int.random(in: 0..<8, using: &random)).map { UInt8($0) }))
        case 9: return .decimal128(Decimal128(Int64.random(in: -99...99, using: &random)))
        case 10: return .timestamp(increment: 3, seconds: UInt32.random(in: 0...100, using: &random))
        case 11: return .regex(pattern: "a.c", options: "im")
        case 12: return .document(randomDocument(&random, depth: depth - 1))
        default:
            return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in randomValue(&random, depth: depth - 1) })
        }
    }

    static func randomKey(_ random: inout SplitMix64) -> String {
        String((0..<Int.random(in: 1..<6, using: &random)).map { _ in "abcxyz_".randomElement(using: &random) ?? "a" })
    }

    static func randomDocument(_ random: inout SplitMix64, depth: Int) -> Document {
        var doc = Document()
        for _ in 0..<Int.random(in: 0..<7, using: &random) {
            doc.append(randomKey(&random), randomValue(&random, depth: depth))
        }
        return doc
    }

    @Test func trustedReadingAgreesWithValidatingReadingOnRandomDocuments() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let bytes = Self.randomDocument(&random, depth: 3).bytes
            let validated = try Document(bytes: bytes)
            let trusted = try Document(trustedBytes: bytes)
            #expect(trusted == validated, "seed \(seed)")
            #expect(trusted.keys == validated.keys, "seed \(seed)")
            #expect(trusted.values == validated.values, "seed \(seed)")
            for key in validated.keys {
                #expect(trusted[key] == validated[key], "seed \(seed) key \(key)")
            }
        }
    }

    @Test func trustedReadingRejectsBytesNotFramedAsBSON() {
        let good: [UInt8] = [0x0C, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0]
        #expect(throws: BSONError.self) { try Document(trustedBytes: []) }
        #expect(throws: BSONError.self) { try Document(trustedBytes: [5, 0, 0]) }
        #expect(throws: BSONError.self) { try Document(trustedBytes: Array(good.dropLast())) }
        var wrongLength = good
        wrongLength[0] = 0x0D
        #expect(throws: BSONError.self) { try Document(trustedBytes: wrongLength) }
        var noTerminator = good
        noTerminator[11] = 1
        #expect(throws: BSONError.self) { try Document(trustedBytes: noTerminator) }
        #expect((try? Document(trustedBytes: good))?["a"] == .int32(1))
    }

    @Test func leadingUniqueFieldNeedsTheKeyFirstAndNowhereElse() {
        #expect(Document([("_id", .int32(1)), ("a", .int32(2))]).hasLeadingUniqueField("_id"))
        #expect(Document([("_id", .int32(1))]).hasLeadingUniqueField("_id"))
        #expect(!Document([("a", .int32(2)), ("_id", .int32(1))]).hasLeadingUniqueField("_id"))
        #expect(!Document([("_id", .int32(1)), ("_id", .int32(2))]).hasLeadingUniqueField("_id"))
        #expect(!Document([("_idx", .int32(1))]).hasLeadingUniqueField("_id"))
        #expect(!Document().hasLeadingUniqueField("_id"))
    }
}

/// `Document.compareField` (comparison in the encoded bytes) against `BSONValue.compare` on the
/// decoded field.
struct FieldComparisonTests {
    static func randomScalar(_ random: inout SplitMix64) -> BSONValue {
        switch Int.random(in: 0..<9, using: &random) {
        case 0: return .int32(Int32.random(in: -3...3, using: &random))
        case 1: return .int64(Int64.random(in: -3...3, using: &random))
        case 2: return .int64(Int64.random(in: Int64.min...Int64.max, using: &random))
        case 3: return .double(Double(Int.random(in: -6...6, using: &random)) / 2)
        case 4: return .double([.nan, .infinity, -.infinity, -0.0][Int.random(in: 0..<4, using: &random)])
        case 5: return .string(["", "a", "ab", "b", "é", "a\u{0}"][Int.random(in: 0..<6, using: &random)])
        case 6: return .decimal128(Decimal128(Int64.random(in: -3...3, using: &random)))
        case 7: return .null
        default: return .array([.int32(1)])
        }
    }

    @Test func inPlaceComparisonAgreesWithDecodedComparison() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var decided = 0
        for _ in 0..<5000 {
            var doc = Document()
            if Bool.random(using: &random) { doc.append("x", Self.randomScalar(&random)) }
            doc.append("f", Self.randomScalar(&random))
            let key = Bool.random(using: &random) ? "f" : "x"
            let value = Self.randomScalar(&random)
            let field = doc[key]
            switch doc.compareField(key, with: value) {
            case .missing:
                #expect(field == nil, "seed \(seed)")
            case .otherBracket:
                #expect(field.map { $0.type.sortRank != value.type.sortRank } == true, "seed \(seed)")
                decided += 1
            case .order(let order):
                #expect(field.map { BSONValue.compare($0, value) } == order, "seed \(seed) \(String(describing: field)) \(value)")
                decided += 1
            case .undecided:
                break
            }
        }
        #expect(decided > 1000)
    }
}
