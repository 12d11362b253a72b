import OsmanthusBSON
import Testing

@testable import Osmanthus

struct ExpressionCase: Sendable, CustomTestStringConvertible {
    let expression: String
    let document: String
    /// The expected value, or nil for "missing".
    let expected: String?
    var testDescription: String { "\(expression) on \(document)" }
}

struct ExpressionTests {
    static let doc = "{_id: 1, a: 5, b: 2, s: \"Hi\", n: null, arr: [1, 2, 3], d: Date(1000), o: {x: 1, y: [{z: 1}, {z: 2}, {w: 3}]}}"

    static func ok(_ expression: String, _ expected: String?) -> ExpressionCase {
        ExpressionCase(expression: expression, document: doc, expected: expected)
    }

    static let cases: [ExpressionCase] = [
        // Field paths and variables
        ok("{v: \"$a\"}", "5"),
        ok("{v: \"$o.x\"}", "1"),
        ok("{v: \"$o.y.z\"}", "[1, 2]"),
        ok("{v: \"$arr\"}", "[1, 2, 3]"),
        ok("{v: \"$nope\"}", nil),
        ok("{v: \"$a.b\"}", nil),
        ok("{v: \"$arr.0\"}", "[]"),
        ok("{v: \"$$ROOT.a\"}", "5"),
        ok("{v: \"$$CURRENT.b\"}", "2"),
        ok("{v: \"$$REMOVE\"}", nil),
        ok("{v: {$literal: \"$a\"}}", "\"$a\""),
        ok("{v: {$literal: {$add: [1, 2]}}}", "{$add: [1, 2]}"),
        ok("{v: [\"$a\", \"$nope\", 3]}", "[5, null, 3]"),
        ok("{v: {p: \"$a\", q: \"$nope\"}}", "{p: 5}"),
        ok("{v: 7}", "7"),
        ok("{v: \"plain\"}", "\"plain\""),
        // Comparison
        ok("{v: {$eq: [\"$a\", 5]}}", "true"),
        ok("{v: {$eq: [\"$a\", 5.0]}}", "true"),
        ok("{v: {$eq: [\"$nope\", null]}}", "false"),
        ok("{v: {$eq: [\"$n\", null]}}", "true"),
        ok("{v: {$ne: [\"$a\", 4]}}", "true"),
        ok("{v: {$gt: [\"$a\", \"$b\"]}}", "true"),
        ok("{v: {$gt: [\"$s\", \"$a\"]}}", "true"),
        ok("{v: {$gte: [\"$a\", 5]}}", "true"),
        ok("{v: {$lt: [\"$n\", 0]}}", "true"),
        ok("{v: {$lt: [\"$nope\", \"$n\"]}}", "true"),
        ok("{v: {$lte: [[1, 2], [1, 2]]}}", "true"),
        ok("{v: {$cmp: [\"$a\", \"$b\"]}}", "1"),
        ok("{v: {$cmp: [\"$b\", \"$a\"]}}", "-1"),
        ok("{v: {$cmp: [2, 2.0]}}", "0"),
        // Arithmetic
        ok("{v: {$add: [\"$a\", \"$b\"]}}", "7"),
        ok("{v: {$add: [\"$a\", 1.5]}}", "6.5"),
        ok("{v: {$add: [\"$a\", NumberLong(1)]}}", "NumberLong(6)"),
        ok("{v: {$add: [2147483647, 1]}}", "NumberLong(2147483648)"),
        ok("{v: {$add: [\"$a\", \"$nope\"]}}", "null"),
        ok("{v: {$add: [\"$a\", \"$n\"]}}", "null"),
        ok("{v: {$add: []}}", "0"),
        ok("{v: {$add: [\"$d\", 500]}}", "Date(1500)"),
        ok("{v: {$add: [1, \"$d\", 1]}}", "Date(1002)"),
        ok("{v: {$add: [NumberDecimal(\"0.1\"), NumberDecimal(\"0.2\")]}}", "NumberDecimal(\"0.3\")"),
        ok("{v: {$subtract: [\"$a\", \"$b\"]}}", "3"),
        ok("{v: {$subtract: [\"$d\", 1]}}", "Date(999)"),
        ok("{v: {$subtract: [\"$d\", Date(400)]}}", "NumberLong(600)"),
        ok("{v: {$subtract: [\"$a\", null]}}", "null"),
        ok("{v: {$multiply: [\"$a\", \"$b\", 2]}}", "20"),
        ok("{v: {$multiply: [\"$a\", 0.5]}}", "2.5"),
        ok("{v: {$multiply: [65536, 65536]}}", "NumberLong(4294967296)"),
        ok("{v: {$multiply: [\"$a\", \"$nope\"]}}", "null"),
        ok("{v: {$divide: [\"$a\", \"$b\"]}}", "2.5"),
        ok("{v: {$divide: [6, 3]}}", "2.0"),
        ok("{v: {$divide: [NumberDecimal(\"1\"), 4]}}", "NumberDecimal(\"0.25\")"),
        ok("{v: {$divide: [NumberDecimal(\"1\"), 3]}}", "NumberDecimal(\"0.3333333333333333333333333333333333\")"),
        ok("{v: {$divide: [NumberDecimal(\"10\"), NumberDecimal(\"2\")]}}", "NumberDecimal(\"5\")"),
        ok("{v: {$divide: [\"$n\", 2]}}", "null"),
        ok("{v: {$mod: [\"$a\", \"$b\"]}}", "1"),
        ok("{v: {$mod: [-5, 3]}}", "-2"),
        ok("{v: {$mod: [5.5, 2]}}", "1.5"),
        ok("{v: {$mod: [NumberLong(7), 4]}}", "NumberLong(3)"),
        ok("{v: {$mod: [NumberDecimal(\"7.5\"), 2]}}", "NumberDecimal(\"1.5\")"),
        ok("{v: {$abs: -5}}", "5"),
        ok("{v: {$abs: -2.5}}", "2.5"),
        ok("{v: {$abs: NumberInt(-2147483648)}}", "NumberLong(2147483648)"),
        ok("{v: {$abs: NumberDecimal(\"-1.5\")}}", "NumberDecimal(\"1.5\")"),
        ok("{v: {$abs: \"$nope\"}}", "null"),
        // Boolean
        ok("{v: {$and: [true, 1, \"x\", []]}}", "true"),
        ok("{v: {$and: [true, 0]}}", "false"),
        ok("{v: {$and: []}}", "true"),
        ok("{v: {$and: [\"$nope\"]}}", "false"),
        ok("{v: {$or: [false, null, \"$a\"]}}", "true"),
        ok("{v: {$or: [false, 0.0, NumberDecimal(\"0\")]}}", "false"),
        ok("{v: {$or: []}}", "false"),
        ok("{v: {$not: [\"$a\"]}}", "false"),
        ok("{v: {$not: \"$nope\"}}", "true"),
        ok("{v: {$not: [[]]}}", "false"),
        ok("{v: {$and: [false, {$divide: [1, 0]}]}}", "false"),
        // Conditionals
        ok("{v: {$cond: [{$gt: [\"$a\", 3]}, \"big\", \"small\"]}}", "\"big\""),
        ok("{v: {$cond: {if: \"$nope\", then: 1, else: 2}}}", "2"),
        ok("{v: {$cond: {else: 2, if: true, then: 1}}}", "1"),
        ok("{v: {$cond: [true, \"$nope\", 1]}}", nil),
        ok("{v: {$cond: [false, {$divide: [1, 0]}, 1]}}", "1"),
        ok("{v: {$ifNull: [\"$nope\", \"dflt\"]}}", "\"dflt\""),
        ok("{v: {$ifNull: [\"$n\", \"dflt\"]}}", "\"dflt\""),
        ok("{v: {$ifNull: [\"$a\", \"dflt\"]}}", "5"),
        ok("{v: {$ifNull: [\"$nope\", \"$n\", \"$b\"]}}", "2"),
        ok("{v: {$ifNull: [\"$nope\", \"$nada\"]}}", nil),
        // Arrays, types, strings
        ok("{v: {$in: [2, \"$arr\"]}}", "true"),
        ok("{v: {$in: [2.0, \"$arr\"]}}", "true"),
        ok("{v: {$in: [9, \"$arr\"]}}", "false"),
        ok("{v: {$in: [[1], [[1], 2]]}}", "true"),
        ok("{v: {$size: \"$arr\"}}", "3"),
        ok("{v: {$size: [[]]}}", "0"),
        ok("{v: {$size: \"$o.y\"}}", "3"),
        ok("{v: {$isArray: \"$arr\"}}", "true"),
        ok("{v: {$isArray: [\"$a\"]}}", "false"),
        ok("{v: {$type: \"$a\"}}", "\"int\""),
        ok("{v: {$type: \"$nope\"}}", "\"missing\""),
        ok("{v: {$type: \"$o\"}}", "\"object\""),
        ok("{v: {$arrayElemAt: [\"$arr\", 0]}}", "1"),
        ok("{v: {$arrayElemAt: [\"$arr\", -1]}}", "3"),
        ok("{v: {$arrayElemAt: [\"$arr\", 5]}}", nil),
        ok("{v: {$concat: [\"$s\", \" \", \"there\"]}}", "\"Hi there\""),
        ok("{v: {$concat: [\"$s\", \"$nope\"]}}", "null"),
        ok("{v: {$max: [1, \"$a\", null]}}", "5"),
        ok("{v: {$max: \"$arr\"}}", "3"),
        ok("{v: {$min: [\"$nope\", \"$n\"]}}", "null"),
        ok("{v: {$min: [4, \"x\", 2]}}", "2"),
    ]

    @Test(arguments: cases)
    func expressionEvaluatesAsMongoDB(_ testCase: ExpressionCase) throws {
        guard let spec = QueryFixtures.doc(testCase.expression)["v"] else {
            Issue.record("fixture without v")
            return
        }
        let expression = try Expression(spec)
        let value = try expression.evaluate(in: ExpressionContext(root: QueryFixtures.doc(testCase.document), now: 0))
        let expected = testCase.expected.map { QueryFixtures.doc("{v: \($0)}")["v"] }
        #expect(value == expected ?? nil, "got \(value.map { "\($0)" } ?? "missing")")
    }

    static let errors: [(String, Int32)] = [
        ("{v: {$add: [\"$s\", 1]}}", 14), ("{v: {$add: [\"$d\", \"$d\"]}}", 2), ("{v: {$subtract: [1, \"$d\"]}}", 14),
        ("{v: {$divide: [1, 0]}}", 2), ("{v: {$divide: [1, \"x\"]}}", 14), ("{v: {$mod: [1, 0]}}", 2),
        ("{v: {$abs: NumberLong(-9223372036854775808)}}", 2), ("{v: {$abs: \"x\"}}", 14), ("{v: {$in: [1, \"$a\"]}}", 40081),
        ("{v: {$in: [1, \"$nope\"]}}", 40081), ("{v: {$size: \"$a\"}}", 17124), ("{v: {$multiply: [\"$s\"]}}", 14),
        ("{v: {$concat: [\"a\", 1]}}", 14), ("{v: \"$$nope\"}", 17276), ("{v: {$arrayElemAt: [\"$a\", 0]}}", 14),
    ]

    @Test func evaluationErrorsUseMongoDBCodes() throws {
        let document = QueryFixtures.doc(ExpressionTests.doc)
        for (text, code) in ExpressionTests.errors {
            guard let spec = QueryFixtures.doc(text)["v"] else { continue }
            let thrown = QueryFixtures.errorCode { try Expression(spec).evaluate(document) }
            #expect(thrown == code, "\(text)")
        }
    }

    static let parseErrors: [(String, Int32)] = [
        ("{v: {$foo: 1}}", 168), ("{v: {$add: 1, $sub: 1}}", 15983), ("{v: {$eq: [1]}}", 16020), ("{v: {$not: [1, 2]}}", 16020),
        ("{v: {$cond: [1, 2]}}", 16020), ("{v: {$cond: {if: 1, then: 2}}}", 9), ("{v: {$cond: {if: 1, then: 2, else: 3, x: 4}}}", 9),
        ("{v: {$ifNull: [1]}}", 16020), ("{v: \"$\"}", 9), ("{v: \"$a..b\"}", 9), ("{v: \"$a.$b\"}", 16410),
        ("{v: {\"a.b\": 1}}", 9), ("{v: {p: 1, $q: 2}}", 16410), ("{v: \"$$Nope\"}", 17276), ("{v: {$size: [1, 2]}}", 16020),
    ]

    @Test func malformedExpressionsAreRejectedAtParse() {
        for (text, code) in ExpressionTests.parseErrors {
            guard let spec = QueryFixtures.doc(text)["v"] else { continue }
            #expect(QueryFixtures.errorCode { try Expression(spec) } == code, "\(text)")
        }
    }

    @Test func truthinessFollowsMongoDB() {
        let falsy: [BSONValue?] = [nil, .null, .undefined, .bool(false), .int32(0), .int64(0), .double(0), .double(-0.0), .decimal128(.zero)]
        let truthy: [BSONValue?] = [.bool(true), .int32(-1), .string(""), .array([]), .document(Document()), .double(.nan), .datetime(0)]
        for value in falsy { #expect(!Expression.isTruthy(value), "\(String(describing: value))") }
        for value in truthy { #expect(Expression.isTruthy(value), "\(String(describing: value))") }
    }

    @Test func nowComesFromTheContext() throws {
        let expression = try Expression(.string("$$NOW"))
        #expect(try expression.evaluate(in: ExpressionContext(root: Document(), now: 1234)) == .datetime(1234))
        #expect(try Expression(.string("$nope")).evaluate(Document()) == .null)
    }

    @Test func variablesFromTheContextAreVisible() throws {
        let expression = try Expression(.string("$$item.price"))
        let context = ExpressionContext(root: Document(), variables: ["item": ["price": 7]])
        #expect(try expression.evaluate(in: context) == .int32(7))
    }
}
