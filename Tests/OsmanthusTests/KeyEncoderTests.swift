import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

struct KeyEncoderTests {
    /// Values across every type, with numeric edge cases: the byte order of their encodings must
    /// be MongoDB's order (BSONValue.compare).
    static let samples: [BSONValue] = [
        .minKey, .null, .double(-.infinity), .int64(Int64.min), .double(-1e300), .int32(-5), .double(-4.5),
        .double(-0.0), .int32(0), .double(0.5), .int32(1), .int64(1), .double(1.0000000001),
        .int64(9_007_199_254_740_992), .int64(9_007_199_254_740_993), .double(9_007_199_254_740_994),
        .int64(Int64.max - 1), .int64(Int64.max), .double(9.3e18), .double(.infinity), .double(.nan),
        .string(""), .string("a"), .string("a\u{0}"), .string("a\u{0}b"), .string("ab"), .string("b"),
        .document([:]), .document(["a": 1]), .document(["a": 2]), .document(["a": 1, "b": 1]),
        .document(["b": 0]), .document(["a": "x"]),
        .array([]), .array([1]), .array([1, 2]), .array([2]), .array(["a"]),
        .binary(BSONBinary(data: [1, 2, 3])), .binary(BSONBinary(data: [9])), .binary(BSONBinary(subtype: .uuid, data: [0])),
        .objectId(ObjectId(seconds: 1, processUnique: 0, counter: 0)),
        .objectId(ObjectId(seconds: 2, processUnique: 0, counter: 0)),
        .bool(false), .bool(true), .datetime(-1), .datetime(0), .datetime(1_000),
        .timestamp(increment: 5, seconds: 1), .timestamp(increment: 1, seconds: 2),
        .regex(pattern: "a", options: ""), .regex(pattern: "a", options: "i"), .maxKey,
    ]

    @Test func byteOrderIsMongoDBValueOrder() {
        for a in Self.samples {
            for b in Self.samples {
                let expected = BSONValue.compare(a, b).signum()
                let got = compareBytes(KeyEncoder.encode(a), KeyEncoder.encode(b)).signum()
                #expect(got == expected, "\(a) vs \(b)")
            }
        }
    }

    /// The worked examples of SPEC.md §11.1.
    @Test func specExamplesEncodeAsDocumented() {
        #expect(KeyEncoder.encode(.int32(1)) == [0x10, 0xBF, 0xF0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0])
        #expect(KeyEncoder.encode(.string("ab")) == [0x20, 0x61, 0x62, 0x00, 0x01])
        #expect(KeyEncoder.encode(.string("a\u{0}")) == [0x20, 0x61, 0x00, 0xFF, 0x00, 0x01])
        #expect(KeyEncoder.encode(.document(["a": true])) == [0x30, 0x70, 0x61, 0x00, 0x01, 0x70, 0x01, 0x00])
    }

    @Test func numbersEqualAcrossTypesEncodeIdentically() {
        #expect(KeyEncoder.encode(.int32(5)) == KeyEncoder.encode(.double(5)))
        #expect(KeyEncoder.encode(.int64(5)) == KeyEncoder.encode(.int32(5)))
        #expect(KeyEncoder.encode(.double(-0.0)) == KeyEncoder.encode(.int32(0)))
        #expect(KeyEncoder.encode(.int64(9_007_199_254_740_993)) != KeyEncoder.encode(.double(9_007_199_254_740_992)))
    }

    /// A decimal holding an integer in Int64's range has that integer's key, whatever its
    /// exponent; beyond Int64 or with a fraction it keeps its nearest double's.
    @Test func integralDecimalsEncodeAsTheEqualInteger() throws {
        let same: [(String, Int64)] = [
            ("9007199254740993", 9_007_199_254_740_993), ("9.007199254740993E+15", 9_007_199_254_740_993),
            ("-9007199254740993.00", -9_007_199_254_740_993), ("9223372036854775807", Int64.max),
            ("-9223372036854775808", Int64.min), ("-0", 0), ("0E+300", 0), ("2.0E+3", 2000), ("5", 5),
        ]
        for (text, integer) in same {
            #expect(KeyEncoder.encode(.decimal128(try Decimal128(text))) == KeyEncoder.encode(.int64(integer)), "\(text)")
            #expect(try Decimal128(text).exactInt64 == integer, "\(text)")
        }
        for text in ["9223372036854775808", "-9223372036854775809", "1.5", "1E+19", "NaN", "Infinity", "1E+6111"] {
            #expect(try Decimal128(text).exactInt64 == nil, "\(text)")
        }
        #expect(KeyEncoder.encode(.decimal128(try Decimal128("9223372036854775808"))) == KeyEncoder.encode(.double(9.223372036854775808e18)))
    }

    /// Integral decimals mixed with int64s and doubles near 2^53 and 2^63 keep MongoDB's order.
    @Test func integralDecimalsKeepTheirOrderAmongIntegersAndDoubles() throws {
        var rng = SystemRandomNumberGenerator()
        let bases: [Int64] = [0, 1 << 53, -(1 << 53), 1 << 62, Int64.max - 3000, Int64.min + 3000]
        for _ in 0..<3000 {
            func value() throws -> BSONValue {
                let n = bases.randomElement(using: &rng).map { $0 + Int64.random(in: -2000...2000, using: &rng) } ?? 0
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: return .int64(n)
                case 1: return .double(Double(n))
                default: return .decimal128(try Decimal128(String(n)))
                }
            }
            let a = try value(), b = try value()
            #expect(compareBytes(KeyEncoder.encode(a), KeyEncoder.encode(b)).signum() == BSONValue.compare(a, b).signum(),
                    "\(a) vs \(b)")
        }
    }

    @Test func randomIntegersAndDoublesKeepTheirOrder() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let a: BSONValue = Bool.random(using: &rng) ? .int64(Int64.random(in: Int64.min...Int64.max, using: &rng))
                : .double(Double.random(in: -1e19...1e19, using: &rng))
            let b: BSONValue = Bool.random(using: &rng) ? .int64(Int64.random(in: Int64.min...Int64.max, using: &rng))
                : .double(Double.random(in: -1e19...1e19, using: &rng))
            #expect(compareBytes(KeyEncoder.encode(a), KeyEncoder.encode(b)).signum() == BSONValue.compare(a, b).signum(),
                    "\(a) vs \(b)")
        }
    }
}
