import OsmanthusBSON
import Testing

@testable import Osmanthus

struct ProjectionCase: Sendable, CustomTestStringConvertible {
    let document: String
    let projection: String
    let expected: String
    var filter: String?
    var testDescription: String { "\(projection) on \(document)" }
}

struct ProjectionTests {
    static let base = "{_id: 1, a: 1, b: 2}"
    static let nested = "{_id: 1, a: [{b: 1, c: 2}, {c: 3}, 5], d: 4}"
    static let arrays = "{_id: 1, a: [1, 2, 3], b: 1}"

    static let cases: [ProjectionCase] = [
        ProjectionCase(document: base, projection: "{a: 1}", expected: "{_id: 1, a: 1}"),
        ProjectionCase(document: base, projection: "{a: 1, _id: 0}", expected: "{a: 1}"),
        ProjectionCase(document: base, projection: "{a: 0}", expected: "{_id: 1, b: 2}"),
        ProjectionCase(document: base, projection: "{_id: 0}", expected: "{a: 1, b: 2}"),
        ProjectionCase(document: base, projection: "{}", expected: base),
        ProjectionCase(document: base, projection: "{b: 1, a: 1}", expected: "{_id: 1, a: 1, b: 2}"),
        ProjectionCase(document: base, projection: "{a: true}", expected: "{_id: 1, a: 1}"),
        ProjectionCase(document: base, projection: "{a: false}", expected: "{_id: 1, b: 2}"),
        ProjectionCase(document: base, projection: "{a: 5}", expected: "{_id: 1, a: 1}"),
        ProjectionCase(document: base, projection: "{_id: 1}", expected: "{_id: 1}"),
        ProjectionCase(document: base, projection: "{_id: 1, a: 0}", expected: "{_id: 1, b: 2}"),
        ProjectionCase(document: base, projection: "{x: 1}", expected: "{_id: 1}"),
        ProjectionCase(document: base, projection: "{x: 0}", expected: base),
        ProjectionCase(document: "{a: 1, _id: 1}", projection: "{a: 1}", expected: "{a: 1, _id: 1}"),
        ProjectionCase(document: "{_id: 1, a: {b: 1, c: 2}, d: 3}", projection: "{\"a.b\": 1}", expected: "{_id: 1, a: {b: 1}}"),
        ProjectionCase(document: "{_id: 1, a: {b: 1, c: 2}, d: 3}", projection: "{a: {b: 1}}", expected: "{_id: 1, a: {b: 1}}"),
        ProjectionCase(document: "{_id: 1, a: {b: 1, c: 2}, d: 3}", projection: "{\"a.b\": 0}", expected: "{_id: 1, a: {c: 2}, d: 3}"),
        ProjectionCase(document: "{_id: 1, a: {b: 1, c: 2, d: 3}}", projection: "{\"a.b\": 1, \"a.d\": 1}", expected: "{_id: 1, a: {b: 1, d: 3}}"),
        ProjectionCase(document: "{_id: 1, a: {c: 2}}", projection: "{\"a.b\": 1}", expected: "{_id: 1, a: {}}"),
        ProjectionCase(document: nested, projection: "{\"a.b\": 1}", expected: "{_id: 1, a: [{b: 1}, {}]}"),
        ProjectionCase(document: nested, projection: "{\"a.b\": 0}", expected: "{_id: 1, a: [{c: 2}, {c: 3}, 5], d: 4}"),
        ProjectionCase(document: "{_id: 1, a: [[{b: 1, c: 1}]]}", projection: "{\"a.b\": 1}", expected: "{_id: 1, a: [[{b: 1}]]}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{\"a.b\": 1}", expected: "{_id: 1}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{\"a.b\": 0}", expected: "{_id: 1, a: 5}"),
        ProjectionCase(document: "{_id: 1, a: 1, b: {c: 1, d: 2}}", projection: "{a: 0, \"b.c\": 0}", expected: "{_id: 1, b: {d: 2}}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: 2}}", expected: "{_id: 1, a: [1, 2], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: -2}}", expected: "{_id: 1, a: [2, 3], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: 0}}", expected: "{_id: 1, a: [], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: 10}}", expected: arrays),
        ProjectionCase(document: arrays, projection: "{a: {$slice: [1, 1]}}", expected: "{_id: 1, a: [2], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: [-2, 5]}}", expected: "{_id: 1, a: [2, 3], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: [5, 1]}}", expected: "{_id: 1, a: [], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: 1}, b: 1}", expected: "{_id: 1, a: [1], b: 1}"),
        ProjectionCase(document: arrays, projection: "{a: {$slice: 1}, b: 0}", expected: "{_id: 1, a: [1]}"),
        ProjectionCase(document: "{_id: 1, a: 7}", projection: "{a: {$slice: 1}}", expected: "{_id: 1, a: 7}"),
        ProjectionCase(document: "{_id: 1, x: {a: [1, 2, 3]}}", projection: "{\"x.a\": {$slice: 1}}", expected: "{_id: 1, x: {a: [1]}}"),
        ProjectionCase(
            document: "{_id: 1, a: [{b: 1}, {b: 2, c: 1}, {b: 2}], z: 1}", projection: "{a: {$elemMatch: {b: 2}}}",
            expected: "{_id: 1, a: [{b: 2, c: 1}]}"),
        ProjectionCase(
            document: "{_id: 1, a: [{b: 1}, {b: 2, c: 1}], z: 1}", projection: "{a: {$elemMatch: {b: 3}}}", expected: "{_id: 1}"),
        ProjectionCase(
            document: "{_id: 1, a: [1, 5, 9], z: 1}", projection: "{a: {$elemMatch: {$gt: 4}}, z: 1}", expected: "{_id: 1, z: 1, a: [5]}"),
        ProjectionCase(document: "{_id: 1, a: 5, z: 1}", projection: "{a: {$elemMatch: {$gt: 4}}}", expected: "{_id: 1}"),
        ProjectionCase(document: arrays, projection: "{\"a.$\": 1}", expected: "{_id: 1, a: [2]}", filter: "{a: 2}"),
        ProjectionCase(document: arrays, projection: "{\"a.$\": 1, b: 1}", expected: "{_id: 1, b: 1, a: [3]}", filter: "{a: {$gt: 2}}"),
        ProjectionCase(
            document: "{_id: 1, a: [{b: 1, c: 1}, {b: 5, c: 2}]}", projection: "{\"a.$\": 1}", expected: "{_id: 1, a: [{b: 5, c: 2}]}",
            filter: "{\"a.b\": 5}"),
        ProjectionCase(
            document: "{_id: 1, a: [{b: 1, c: 1}, {b: 5, c: 2}]}", projection: "{\"a.b.$\": 1}", expected: "{_id: 1, a: [{b: 5}]}",
            filter: "{\"a.b\": 5}"),
        ProjectionCase(
            document: "{_id: 1, x: {a: [7, 8]}}", projection: "{\"x.a.$\": 1}", expected: "{_id: 1, x: {a: [8]}}", filter: "{\"x.a\": 8}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{b: \"$a\"}", expected: "{_id: 1, b: 5}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{c: {$add: [\"$a\", 1]}}", expected: "{_id: 1, c: 6}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{x: {$literal: 1}}", expected: "{_id: 1, x: 1}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{a: 1, c: \"$missing\"}", expected: "{_id: 1, a: 5}"),
        ProjectionCase(document: "{_id: 1, a: 5}", projection: "{s: \"text\"}", expected: "{_id: 1, s: \"text\"}"),
        ProjectionCase(document: "{_id: 1, a: {c: 1}}", projection: "{_id: 0, \"a.b\": {$literal: 5}}", expected: "{a: {b: 5}}"),
        ProjectionCase(document: "{_id: 1, z: 1}", projection: "{\"a.b\": {$literal: 5}}", expected: "{_id: 1, a: {b: 5}}"),
        ProjectionCase(document: "{_id: 1, a: 5, b: 6}", projection: "{t: {$gt: [\"$b\", \"$a\"]}, a: 1}", expected: "{_id: 1, a: 5, t: true}"),
    ]

    @Test(arguments: cases)
    func projectionGivesMongoDBsResult(_ testCase: ProjectionCase) throws {
        let projection = try Projection(QueryFixtures.doc(testCase.projection))
        let filter = try testCase.filter.map { try Filter(QueryFixtures.doc($0)) }
        let result = try projection.apply(to: QueryFixtures.doc(testCase.document), filter: filter)
        #expect(result == QueryFixtures.doc(testCase.expected), "got \(result)")
    }

    static let invalid: [(String, Int32)] = [
        ("{a: 1, b: 0}", 31254), ("{a: 0, b: 1}", 31253), ("{a: 1, \"a.b\": 1}", 31250), ("{\"a.b\": 1, a: 1}", 31250),
        ("{$foo: 1}", 16410), ("{a: {}}", 2), ("{\"a.$\": 1, \"b.$\": 1}", 2), ("{a: {$elemMatch: 1}}", 2),
        ("{\"a.b\": {$elemMatch: {c: 1}}}", 2), ("{a: {$slice: \"x\"}}", 2), ("{a: {$slice: [1, 0]}}", 2),
        ("{a: {$slice: [1, 2, 3]}}", 2), ("{a: {$meta: \"textScore\"}}", 238), ("{a: {$foo: 1}}", 168), ("{\"a..b\": 1}", 2),
        ("{a: 0, b: \"$x\"}", 31253), ("{a: 0, b: {$elemMatch: {c: 1}}}", 31253), ("{\"a.$.b\": 1}", 2), ("{\"a.$\": 0}", 2),
        ("{a: {b: 1, c: 0}}", 31254),
    ]

    @Test func invalidProjectionsAreRejectedWithMongoDBCodes() {
        for (spec, code) in ProjectionTests.invalid {
            #expect(QueryFixtures.errorCode { try Projection(QueryFixtures.doc(spec)) } == code, "\(spec)")
        }
    }

    @Test func positionalWithoutAnArrayMatchFails() throws {
        let projection = try Projection(QueryFixtures.doc("{\"a.$\": 1}"))
        let document = QueryFixtures.doc(ProjectionTests.arrays)
        #expect(QueryFixtures.errorCode { try projection.apply(to: document, filter: nil) } == 51246)
        let scalarMatch = try Filter(QueryFixtures.doc("{b: 1}"))
        #expect(QueryFixtures.errorCode { try projection.apply(to: document, filter: scalarMatch) } == 51246)
    }

    @Test func emptyProjectionIsIdentity() throws {
        #expect(try Projection(Document()).isEmpty)
        #expect(try !Projection(QueryFixtures.doc("{a: 1}")).isEmpty)
    }
}
