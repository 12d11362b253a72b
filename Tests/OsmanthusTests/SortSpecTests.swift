import OsmanthusBSON
import Testing

@testable import Osmanthus

struct SortCase: Sendable, CustomTestStringConvertible {
    let spec: String
    /// Documents given in an order the sort must change; each has a distinct `_id`.
    let documents: String
    /// The `_id`s in sorted order.
    let expectedIds: [Int32]
    var testDescription: String { "\(spec) over \(documents)" }
}

struct SortSpecTests {
    static let cases: [SortCase] = [
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: 2}, {_id: 2, a: 1}, {_id: 3, a: 3}]", expectedIds: [2, 1, 3]),
        SortCase(spec: "{a: -1}", documents: "[{_id: 1, a: 2}, {_id: 2, a: 1}, {_id: 3, a: 3}]", expectedIds: [3, 1, 2]),
        // MinKey < undefined(empty array) < null = missing < numbers < strings < documents < arrays < ... < bool
        SortCase(
            spec: "{a: 1}",
            documents:
                "[{_id: 1, a: \"x\"}, {_id: 2, a: 1}, {_id: 3, a: null}, {_id: 4, a: {b: 1}}, {_id: 5, a: []}, {_id: 6, a: true}, {_id: 7, a: MinKey}, {_id: 8, a: Date(0)}, {_id: 9, a: ObjectId(\"507f1f77bcf86cd799439011\")}]",
            expectedIds: [7, 5, 3, 2, 1, 4, 9, 6, 8]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: 1}, {_id: 2}, {_id: 3, a: null}]", expectedIds: [2, 3, 1]),
        SortCase(spec: "{a: -1}", documents: "[{_id: 1}, {_id: 2, a: 1}, {_id: 3, a: []}]", expectedIds: [2, 1, 3]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: 2}, {_id: 2, a: [3, 1]}]", expectedIds: [2, 1]),
        SortCase(spec: "{a: -1}", documents: "[{_id: 1, a: 2}, {_id: 2, a: [3, 1]}]", expectedIds: [2, 1]),
        SortCase(spec: "{a: -1}", documents: "[{_id: 1, a: [0, 1]}, {_id: 2, a: 2}]", expectedIds: [2, 1]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: [\"x\", 5]}, {_id: 2, a: 6}]", expectedIds: [1, 2]),
        SortCase(spec: "{a: -1}", documents: "[{_id: 1, a: [\"x\", 5]}, {_id: 2, a: \"w\"}]", expectedIds: [1, 2]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: [[1, 2]]}, {_id: 2, a: 3}]", expectedIds: [2, 1]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: 1.5}, {_id: 2, a: NumberLong(1)}, {_id: 3, a: NumberDecimal(\"1.2\")}]", expectedIds: [2, 3, 1]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: \"b\"}, {_id: 2, a: \"B\"}, {_id: 3, a: \"a\"}]", expectedIds: [2, 3, 1]),
        SortCase(spec: "{a: 1, b: -1}", documents: "[{_id: 1, a: 1, b: 1}, {_id: 2, a: 1, b: 2}, {_id: 3, a: 0, b: 0}]", expectedIds: [3, 2, 1]),
        SortCase(spec: "{b: 1, a: 1}", documents: "[{_id: 1, a: 1, b: 1}, {_id: 2, a: 0, b: 1}, {_id: 3, a: 5, b: 0}]", expectedIds: [3, 2, 1]),
        SortCase(spec: "{\"a.b\": 1}", documents: "[{_id: 1, a: {b: 3}}, {_id: 2, a: [{b: 5}, {b: 1}]}]", expectedIds: [2, 1]),
        SortCase(spec: "{\"a.b\": -1}", documents: "[{_id: 1, a: {b: 3}}, {_id: 2, a: [{b: 5}, {b: 1}]}]", expectedIds: [2, 1]),
        SortCase(spec: "{\"a.b\": 1}", documents: "[{_id: 1, a: {b: 0}}, {_id: 2, a: [{b: 5}, {}]}]", expectedIds: [2, 1]),
        SortCase(spec: "{\"a.b\": 1}", documents: "[{_id: 1, a: {b: 0}}, {_id: 2, a: [1, {b: 5}]}]", expectedIds: [2, 1]),
        SortCase(spec: "{\"a.b\": 1}", documents: "[{_id: 1, a: {b: 1}}, {_id: 2, a: 5}]", expectedIds: [2, 1]),
        SortCase(spec: "{\"a.1\": 1}", documents: "[{_id: 1, a: [9, 1]}, {_id: 2, a: [0, 5]}]", expectedIds: [1, 2]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: {b: 2}}, {_id: 2, a: {b: 1, c: 1}}, {_id: 3, a: {a: 9}}]", expectedIds: [3, 2, 1]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: Date(5)}, {_id: 2, a: Date(-5)}]", expectedIds: [2, 1]),
        SortCase(spec: "{a: 1}", documents: "[{_id: 1, a: NaN}, {_id: 2, a: -Infinity}, {_id: 3, a: 0}]", expectedIds: [1, 2, 3]),
        SortCase(spec: "{a: -1}", documents: "[{_id: 1, a: false}, {_id: 2, a: true}, {_id: 3, a: MaxKey}]", expectedIds: [3, 2, 1]),
    ]

    @Test(arguments: cases)
    func sortOrdersAsMongoDB(_ testCase: SortCase) throws {
        let spec = try SortSpec(QueryFixtures.doc(testCase.spec))
        let documents = QueryFixtures.docs(testCase.documents)
        let sorted = documents.sorted { spec.compare($0, $1) < 0 }
        #expect(sorted.map { $0["_id"] } == testCase.expectedIds.map { BSONValue.int32($0) })
        let byKeys = documents.map { (spec.sortKey($0), $0) }.sorted { spec.compareKeys($0.0, $1.0) < 0 }.map(\.1)
        #expect(byKeys == sorted)
    }

    @Test func missingAndNullTie() throws {
        let spec = try SortSpec(QueryFixtures.doc("{a: 1}"))
        #expect(spec.compare(QueryFixtures.doc("{}"), QueryFixtures.doc("{a: null}")) == 0)
        #expect(spec.compare(QueryFixtures.doc("{a: [null]}"), QueryFixtures.doc("{a: null}")) == 0)
        #expect(spec.compare(QueryFixtures.doc("{a: 1}"), QueryFixtures.doc("{a: 1.0}")) == 0)
    }

    @Test func naturalAndEmptySpecsMeanNoSort() throws {
        #expect(try SortSpec(Document()).isEmpty)
        let natural = try SortSpec(QueryFixtures.doc("{$natural: -1}"))
        #expect(natural.isEmpty)
        #expect(natural.natural == -1)
        #expect(try !SortSpec(QueryFixtures.doc("{a: 1}")).isEmpty)
    }

    @Test func invalidSpecsAreRejected() {
        let invalid: [(String, Int32)] = [
            ("{a: 2}", 15975), ("{a: \"x\"}", 15975), ("{a: 0}", 15975), ("{a: 1.5}", 15975), ("{\"\": 1}", 2), ("{\"a..b\": 1}", 2),
            ("{a: {$meta: \"textScore\"}}", 238), ("{$foo: 1}", 2),
        ]
        for (spec, code) in invalid {
            #expect(QueryFixtures.errorCode { try SortSpec(QueryFixtures.doc(spec)) } == code, "\(spec)")
        }
        #expect(QueryFixtures.errorCode { try SortSpec(QueryFixtures.doc("{a: NumberLong(-1), b: 1.0}")) } == nil)
    }

    /// A generated check: over a seeded mix of scalars and arrays, sorting with `compare` is
    /// the same as sorting on each document's min (ascending) / max (descending) element,
    /// computed here independently.
    @Test func arraysSortByTheirSmallestOrLargestElement() throws {
        var generator = SeededGenerator(seed: 42)
        let pool: [BSONValue] = [1, 2, 3, "a", "b", .null, .bool(true), 2.5, .array([])]
        var documents = [Document]()
        for id in 0..<200 {
            var value: BSONValue
            if Int.random(in: 0..<3, using: &generator) == 0 {
                value = pool[Int.random(in: 0..<pool.count, using: &generator)]
            } else {
                let count = Int.random(in: 1..<4, using: &generator)
                value = .array((0..<count).map { _ in pool[Int.random(in: 0..<(pool.count - 1), using: &generator)] })
            }
            documents.append(["_id": .int32(Int32(id)), "a": value])
        }
        for ascending in [true, false] {
            let spec = try SortSpec(["a": .int32(ascending ? 1 : -1)])
            func key(_ document: Document) -> BSONValue {
                guard case .array(let elements)? = document["a"] else { return document["a"] ?? .null }
                if elements.isEmpty { return .undefined }
                return elements.sorted { BSONValue.compare($0, $1) < 0 }[ascending ? 0 : elements.count - 1]
            }
            let sorted = documents.sorted { spec.compare($0, $1) < 0 }
            for (earlier, later) in zip(sorted, sorted.dropFirst()) {
                let order = BSONValue.compare(key(earlier), key(later))
                #expect(ascending ? order <= 0 : order >= 0)
            }
        }
    }
}

/// A small deterministic generator (SplitMix64) for the generated test data.
struct SeededGenerator: RandomNumberGenerator {
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
