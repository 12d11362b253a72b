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
