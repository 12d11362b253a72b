import OsmanthusBSON
import Testing

@testable import Osmanthus

/// `$group` accumulators over hand-picked values; expectations follow MongoDB's documented
/// rules (non-numbers ignored by `$sum`/`$avg`, null and missing by `$min`/`$max`, missing
/// skipped by `$push`, number equality across types for `$addToSet` and group keys).
struct AccumulatorTests {
    static func group(_ docs: String, _ spec: String) throws -> [Document] {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let collection = db.collection("values", in: "test")
        try collection.insertMany(QueryFixtures.docs(docs))
        return try AggregateFixture.run(collection, "[{$group: \(spec)}]")
    }

    static let mixed = "[{_id: 1, v: 1}, {_id: 2, v: 2.5}, {_id: 3, v: NumberLong(3)}, {_id: 4, v: \"x\"}, {_id: 5, v: null}, {_id: 6}]"

    @Test func sumAvgMinMaxOverMixedValues() throws {
        let result = try Self.group(Self.mixed, "{_id: null, sum: {$sum: \"$v\"}, avg: {$avg: \"$v\"}, min: {$min: \"$v\"}, max: {$max: \"$v\"}}")
        #expect(result == AggregateFixture.docs("[{_id: null, sum: 6.5, avg: 2.1666666666666665, min: 1, max: \"x\"}]"))
    }

    @Test func firstLastPushAndCount() throws {
        let result = try Self.group(Self.mixed, "{_id: null, first: {$first: \"$v\"}, last: {$last: \"$v\"}, all: {$push: \"$v\"}, n: {$count: {}}, ones: {$sum: 1}}")
        #expect(result == AggregateFixture.docs("[{_id: null, first: 1, last: null, all: [1, 2.5, NumberLong(3), \"x\", null], n: 6, ones: 6}]"))
    }

    @Test func addToSetTreatsEqualNumbersOfAnyTypeAsOne() throws {
        let result = try Self.group("[{_id: 1, v: 1}, {_id: 2, v: 1.0}, {_id: 3, v: NumberLong(1)}, {_id: 4, v: 2}, {_id: 5, v: [1]}]", "{_id: null, set: {$addToSet: \"$v\"}}")
        #expect(result == AggregateFixture.docs("[{_id: null, set: [1, 2, [1]]}]"))
    }

    @Test func groupKeysUseNumericEquality() throws {
        let result = try Self.group("[{_id: 1, k: 1}, {_id: 2, k: 1.0}, {_id: 3, k: NumberLong(1)}, {_id: 4, k: 2}, {_id: 5}, {_id: 6, k: null}]", "{_id: \"$k\", n: {$sum: 1}}")
        #expect(result == AggregateFixture.docs("[{_id: 1, n: 3}, {_id: 2, n: 1}, {_id: null, n: 2}]"))
    }

    @Test func sumWidensIntegersOnOverflow() throws {
        let int32 = try Self.group("[{_id: 1, v: 2}, {_id: 2, v: 3}]", "{_id: null, s: {$sum: \"$v\"}}")
        #expect(int32 == AggregateFixture.docs("[{_id: null, s: 5}]"))
        let widened = try Self.group("[{_id: 1, v: 2147483647}, {_id: 2, v: 1}]", "{_id: null, s: {$sum: \"$v\"}}")
        #expect(widened == AggregateFixture.docs("[{_id: null, s: NumberLong(2147483648)}]"))
    }

    @Test func accumulatorsOverNoNumbers() throws {
        let result = try Self.group("[{_id: 1, v: \"a\"}, {_id: 2}]", "{_id: null, s: {$sum: \"$v\"}, a: {$avg: \"$v\"}, m: {$min: \"$w\"}}")
        #expect(result == AggregateFixture.docs("[{_id: null, s: 0, a: null, m: null}]"))
    }

    @Test func groupByComputedDocumentKey() throws {
        let result = try Self.group(
            "[{_id: 1, a: 1, b: 2, v: 5}, {_id: 2, a: 1, b: 2, v: 6}, {_id: 3, a: 1, b: 3, v: 7}]",
            "{_id: {a: \"$a\", b: \"$b\"}, total: {$sum: \"$v\"}, vs: {$push: {$multiply: [\"$v\", 2]}}}")
        #expect(result == AggregateFixture.docs("[{_id: {a: 1, b: 2}, total: 11, vs: [10, 12]}, {_id: {a: 1, b: 3}, total: 7, vs: [14]}]"))
    }

    @Test func unknownAccumulatorIsLocation15952() throws {
        #expect(QueryFixtures.errorCode { try Self.group("[]", "{_id: null, x: {$median: \"$v\"}}") } == 15952)
        #expect(QueryFixtures.errorCode { try Self.group("[]", "{x: {$sum: 1}}") } == 15955)
        #expect(QueryFixtures.errorCode { try Self.group("[]", "{_id: null, x: 1}") } == 16436)
        #expect(QueryFixtures.errorCode { try Self.group("[]", "{_id: null, x: {$sum: 1, $avg: 1}}") } == 16436)
    }
}
