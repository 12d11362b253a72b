import Testing

@testable import OsmanthusBSON

struct ComparisonTests {
    /// One value of each type, in MongoDB's sort order.
    static let ascendingByType: [BSONValue] = [
        .minKey, .undefined, .null, .int32(5), .string("a"), .document(["a": 1]), .array([1]),
        .binary(BSONBinary(data: [1])), .objectId(ObjectId(seconds: 0, processUnique: 0, counter: 0)),
        .bool(false),
        .datetime(0), .timestamp(increment: 0, seconds: 0), .regex(pattern: "a", options: ""),
        .dbPointer(namespace: "n", id: ObjectId(seconds: 0, processUnique: 0, counter: 0)), .javascript("f"),
        .javascriptWithScope(code: "f", scope: [:]), .maxKey,
    ]

    @Test func typesSortInMongoDBOrder() {
        let values = Self.ascendingByType
        for i in values.indices {
            for j in values.indices {
                let expected = i == j ? 0 : (i < j ? -1 : 1)
                #expect(BSONValue.compare(values[i], values[j]) == expected, "\(values[i]) vs \(values[j])")
            }
        }
    }

    @Test func numbersCompareByValueAcrossTypes() throws {
        let one: [BSONValue] = [.int32(1), .int64(1), .double(1.0), .decimal128(try Decimal128("1.000"))]
        for a in one {
            for b in one { #expect(BSONValue.compare(a, b) == 0, "\(a) vs \(b)") }
        }
        #expect(BSONValue.compare(.int32(1), .double(1.5)) == -1)
        #expect(BSONValue.compare(.double(-0.0), .int32(0)) == 0)
        #expect(BSONValue.compare(.int64(-3), .decimal128(try Decimal128("-2.5"))) == -1)
        #expect(BSONValue.compare(.double(2.5), .decimal128(try Decimal128("2.50"))) == 0)
        #expect(
            BSONValue.compare(.double(0.1), .decimal128(try Decimal128("0.1"))) == 1,
            "0.1 as a double is above 1/10")
        #expect(
            BSONValue.compare(
                .double(0.5), .decimal128(try Decimal128("0.5000000000000000000000000000000001"))) == -1)
    }

    @Test func int64AndDoubleCompareWithoutPrecisionLoss() {
        let big = Int64(1) << 53
        #expect(
            BSONValue.compare(.int64(big + 1), .double(Double(big))) == 1, "2^53+1 is above the double 2^53")
        #expect(BSONValue.compare(.double(Double(big)), .int64(big + 1)) == -1)
        #expect(BSONValue.compare(.int64(.max), .double(9_223_372_036_854_775_808.0)) == -1)
        #expect(BSONValue.compare(.int64(.min), .double(-9_223_372_036_854_775_808.0)) == 0)
        #expect(BSONValue.compare(.int64(.max), .double(.infinity)) == -1)
        #expect(BSONValue.compare(.int64(.min), .double(-.infinity)) == 1)
        #expect(BSONValue.compare(.int64(-1), .double(-0.5)) == -1)
        #expect(BSONValue.compare(.int64(-1), .double(-1.5)) == 1)
    }

    @Test func nanSortsBelowEveryNumberAndEqualsNaN() throws {
        let nan = BSONValue.double(.nan)
        #expect(BSONValue.compare(nan, .double(-.infinity)) == -1)
        #expect(BSONValue.compare(nan, .int64(.min)) == -1)
        #expect(BSONValue.compare(.int32(0), nan) == 1)
        #expect(BSONValue.compare(nan, .double(.nan)) == 0)
        #expect(BSONValue.compare(nan, .decimal128(.nan)) == 0)
        #expect(BSONValue.compare(.decimal128(.nan), .decimal128(.negativeInfinity)) == -1)
        #expect(BSONValue.compare(nan, .null) == 1, "still above null")
    }

    @Test func decimalsCompareExactlyAcrossExponents() throws {
        func d(_ s: String) throws -> BSONValue { .decimal128(try Decimal128(s)) }
        #expect(BSONValue.compare(try d("1E+3"), try d("1000")) == 0)
        #expect(BSONValue.compare(try d("-0"), try d("0E-10")) == 0)
        #expect(
            BSONValue.compare(
                try d("9.999999999999999999999999999999999E+6144"), .double(.greatestFiniteMagnitude)) == 1)
        #expect(BSONValue.compare(try d("1E-6176"), .double(.leastNonzeroMagnitude)) == -1)
        #expect(BSONValue.compare(try d("Infinity"), .double(.infinity)) == 0)
        #expect(BSONValue.compare(try d("-Infinity"), .int64(.min)) == -1)
        #expect(BSONValue.compare(.double(.leastNonzeroMagnitude), try d("4.9406564584124654E-324")) == 1)
    }

    @Test func stringsCompareByUTF8Bytes() {
        #expect(BSONValue.compare("a", "b") == -1)
        #expect(BSONValue.compare("ab", "a") == 1)
        #expect(BSONValue.compare("Z", "a") == -1, "binary, not case-folded")
        #expect(BSONValue.compare("é", "z") == 1, "0xC3 sorts above ASCII")
        #expect(BSONValue.compare(.symbol("b"), .string("a")) == 1, "symbols sort with strings")
        #expect(BSONValue.compare("a\u{0}b", "a") == 1)
    }

    @Test func documentsCompareFieldByField() {
        #expect(BSONValue.compare(["a": 1], ["a": 2]) == -1)
        #expect(BSONValue.compare(["a": 1], ["b": 0]) == -1, "key before value")
        #expect(BSONValue.compare(["a": "x"], ["a": 5]) == 1, "type before key")
        #expect(BSONValue.compare(["a": 1], ["a": 1, "b": 0]) == -1, "prefix is smaller")
        #expect(BSONValue.compare(["a": 1.0], ["a": .int64(1)]) == 0)
        #expect(BSONValue.compare(.document([:]), .document([:])) == 0)
    }

    @Test func arraysCompareElementWise() {
        #expect(BSONValue.compare([1, 2], [1, 3]) == -1)
        #expect(BSONValue.compare([1, 2], [1]) == 1)
        #expect(BSONValue.compare([2], [1, 5]) == 1)
        #expect(BSONValue.compare([nil], [1]) == -1)
    }

    @Test func binaryComparesLengthThenSubtypeThenBytes() {
        let short = BSONValue.binary(BSONBinary(subtype: .init(0x80), data: [9]))
        let long = BSONValue.binary(BSONBinary(subtype: .generic, data: [0, 0]))
        #expect(BSONValue.compare(short, long) == -1)
        #expect(
            BSONValue.compare(
                .binary(BSONBinary(subtype: .generic, data: [9])),
                .binary(BSONBinary(subtype: .function, data: [0]))) == -1)
        #expect(
            BSONValue.compare(.binary(BSONBinary(data: [1, 2])), .binary(BSONBinary(data: [1, 3]))) == -1)
    }

    @Test func scalarTypesCompareAsTheServerDoes() {
        #expect(BSONValue.compare(false, true) == -1)
        #expect(BSONValue.compare(.datetime(-5), .datetime(3)) == -1, "dates are signed")
        #expect(
            BSONValue.compare(
                .timestamp(increment: 0, seconds: 0x8000_0000), .timestamp(increment: 0, seconds: 1)) == 1,
            "timestamps are unsigned")
        #expect(
            BSONValue.compare(.timestamp(increment: 2, seconds: 1), .timestamp(increment: 1, seconds: 2))
                == -1)
        #expect(
            BSONValue.compare(.regex(pattern: "a", options: "i"), .regex(pattern: "a", options: "m")) == -1)
        #expect(BSONValue.compare(.regex(pattern: "b", options: ""), .regex(pattern: "a", options: "m")) == 1)
        #expect(BSONValue.compare(.null, .undefined) == 1)
        #expect(BSONValue.compare(.minKey, .minKey) == 0)
        #expect(
            BSONValue.compare(
                .javascriptWithScope(code: "f", scope: ["a": 1]),
                .javascriptWithScope(code: "f", scope: ["a": 2])) == -1)
    }

    @Test func sortingIsATotalOrderOnRandomValues() {
        var generator = SplitMix64(seed: 42)
        let pool: [BSONValue] =
            Self.ascendingByType + [
                .double(.nan), .double(-1.5), .int64(.max), .int32(-7), .decimal128(.infinity), .string(""),
                "zz",
                .array([]), .document(["b": nil]), .datetime(.min), .bool(true),
            ]
        let values = (0..<300).map { _ in pool[Int(generator.next() % UInt64(pool.count))] }
        let sorted = values.sorted { BSONValue.compare($0, $1) < 0 }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(BSONValue.compare(a, b) <= 0)
            #expect(BSONValue.compare(b, a) >= 0, "antisymmetric")
        }
    }
}

/// A small seeded generator for reproducible tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
