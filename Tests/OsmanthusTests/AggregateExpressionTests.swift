import OsmanthusBSON
import Testing

@testable import Osmanthus

/// The expression operators added for the aggregation pipeline (variables, `$switch`,
/// `$round`, strings, arrays, conversions, dates). Expected values are written from MongoDB's
/// documented semantics.
struct AggregateExpressionTests {
    static let doc = """
        {_id: 1, a: 5, b: 2, f: 2.5, s: "  Hello World  ", w: "a,b,,c", n: null, arr: [1, 2, 3, 4, 5], \
        items: [{p: 1, q: "x"}, {p: 7, q: "y"}, {p: 3, q: "z"}], d: Date(1614834367089), pre: Date(-3600000), summer: Date(1625140800000), \
        t: "München"}
        """

    static func ok(_ expression: String, _ expected: String?) -> ExpressionCase {
        ExpressionCase(expression: expression, document: doc, expected: expected)
    }

    static let cases: [ExpressionCase] = [
        // $let, $switch
        ok("{v: {$let: {vars: {x: \"$a\", y: 10}, in: {$add: [\"$$x\", \"$$y\"]}}}}", "15"),
        ok("{v: {$let: {vars: {x: \"$a\"}, in: {$let: {vars: {x: 1}, in: \"$$x\"}}}}}", "1"),
        ok("{v: {$let: {vars: {o: {k: \"$b\"}}, in: \"$$o.k\"}}}", "2"),
        ok("{v: {$switch: {branches: [{case: {$gt: [\"$a\", 10]}, then: \"big\"}, {case: {$gt: [\"$a\", 3]}, then: \"mid\"}], default: \"small\"}}}", "\"mid\""),
        ok("{v: {$switch: {branches: [{case: false, then: 1}], default: \"none\"}}}", "\"none\""),
        // $round: half to even, type kept
        ok("{v: {$round: [2.5]}}", "2.0"),
        ok("{v: {$round: [3.5]}}", "4.0"),
        ok("{v: {$round: [1.2345, 2]}}", "1.23"),
        ok("{v: {$round: [1234, -2]}}", "1200"),
        ok("{v: {$round: [\"$a\"]}}", "5"),
        ok("{v: {$round: [\"$n\"]}}", "null"),
        // Strings
        ok("{v: {$substrCP: [\"$t\", 1, 3]}}", "\"ünc\""),
        ok("{v: {$substrCP: [\"abc\", 5, 2]}}", "\"\""),
        ok("{v: {$toLower: \"AbC\"}}", "\"abc\""),
        ok("{v: {$toUpper: \"AbC\"}}", "\"ABC\""),
        ok("{v: {$toUpper: \"$n\"}}", "\"\""),
        ok("{v: {$split: [\"$w\", \",\"]}}", "[\"a\", \"b\", \"\", \"c\"]"),
        ok("{v: {$split: [\"$n\", \",\"]}}", "null"),
        ok("{v: {$split: [\"a\", \"$nope\"]}}", "null"),
        ok("{v: {$trim: {input: \"$s\"}}}", "\"Hello World\""),
        ok("{v: {$trim: {input: \"xxhixx\", chars: \"x\"}}}", "\"hi\""),
        ok("{v: {$ltrim: {input: \"  hi \"}}}", "\"hi \""),
        ok("{v: {$concat: [\"a\", \"-\", \"b\"]}}", "\"a-b\""),
        // Arrays
        ok("{v: {$filter: {input: \"$arr\", as: \"x\", cond: {$gt: [\"$$x\", 2]}}}}", "[3, 4, 5]"),
        ok("{v: {$filter: {input: \"$arr\", cond: {$eq: [{$mod: [\"$$this\", 2]}, 0]}}}}", "[2, 4]"),
        ok("{v: {$filter: {input: \"$arr\", as: \"x\", cond: true, limit: 2}}}", "[1, 2]"),
        ok("{v: {$filter: {input: \"$nope\", cond: true}}}", "null"),
        ok("{v: {$map: {input: \"$arr\", as: \"x\", in: {$multiply: [\"$$x\", 10]}}}}", "[10, 20, 30, 40, 50]"),
        ok("{v: {$map: {input: \"$items\", in: \"$$this.q\"}}}", "[\"x\", \"y\", \"z\"]"),
        ok("{v: {$map: {input: \"$items\", as: \"i\", in: {$add: [\"$$i.p\", \"$a\"]}}}}", "[6, 12, 8]"),
        ok("{v: {$slice: [\"$arr\", 2]}}", "[1, 2]"),
        ok("{v: {$slice: [\"$arr\", -2]}}", "[4, 5]"),
        ok("{v: {$slice: [\"$arr\", 1, 2]}}", "[2, 3]"),
        ok("{v: {$slice: [\"$arr\", -2, 5]}}", "[4, 5]"),
        ok("{v: {$slice: [\"$arr\", 10, 1]}}", "[]"),
        ok("{v: {$size: \"$arr\"}}", "5"),
        ok("{v: {$arrayElemAt: [\"$arr\", -1]}}", "5"),
        ok("{v: {$in: [3, \"$arr\"]}}", "true"),
        // Conversions
        ok("{v: {$toString: 5}}", "\"5\""),
        ok("{v: {$toString: 2.5}}", "\"2.5\""),
        ok("{v: {$toString: true}}", "\"true\""),
        ok("{v: {$toString: \"$d\"}}", "\"2021-03-04T05:06:07.089Z\""),
        ok("{v: {$toString: \"$nope\"}}", "null"),
        ok("{v: {$toInt: \"42\"}}", "42"),
        ok("{v: {$toInt: 9.9}}", "9"),
        ok("{v: {$toInt: -9.9}}", "-9"),
        ok("{v: {$toInt: true}}", "1"),
        ok("{v: {$toDouble: \"2.5\"}}", "2.5"),
        ok("{v: {$toDouble: \"$a\"}}", "5.0"),
        ok("{v: {$toDouble: \"$d\"}}", "1614834367089.0"),
        ok("{v: {$toDate: NumberLong(1000)}}", "Date(1000)"),
        ok("{v: {$toDate: \"2021-03-04T05:06:07.089Z\"}}", "Date(1614834367089)"),
        ok("{v: {$toDate: \"1970-01-02\"}}", "Date(86400000)"),
        ok("{v: {$toDate: ObjectId(\"000000010000000000000000\")}}", "Date(1000)"),
        ok("{v: {$type: \"$f\"}}", "\"double\""),
        ok("{v: {$type: \"$nope\"}}", "\"missing\""),
        // Dates (UTC)
        ok("{v: {$year: \"$d\"}}", "2021"),
        ok("{v: {$month: \"$d\"}}", "3"),
        ok("{v: {$dayOfMonth: \"$d\"}}", "4"),
        ok("{v: {$hour: \"$d\"}}", "5"),
        ok("{v: {$minute: \"$d\"}}", "6"),
        ok("{v: {$second: \"$d\"}}", "7"),
        ok("{v: {$dayOfWeek: \"$d\"}}", "5"),
        ok("{v: {$dayOfYear: \"$d\"}}", "63"),
        ok("{v: {$year: {date: \"$d\", timezone: \"UTC\"}}}", "2021"),
        ok("{v: {$year: \"$pre\"}}", "1969"),
        ok("{v: {$hour: \"$pre\"}}", "23"),
        ok("{v: {$month: \"$n\"}}", "null"),
        ok("{v: {$dateToString: {date: \"$d\"}}}", "\"2021-03-04T05:06:07.089Z\""),
        ok("{v: {$dateToString: {format: \"%Y/%m/%d %H:%M:%S.%L %j %w %u %%\", date: \"$d\"}}}", "\"2021/03/04 05:06:07.089 063 5 4 %\""),
        ok("{v: {$dateToString: {date: \"$nope\", onNull: \"none\"}}}", "\"none\""),
        ok("{v: {$dateToString: {date: \"$nope\"}}}", "null"),
        // Dates in a timezone: d is 2021-03-04T05:06:07.089Z (a Thursday), summer
        // 2021-07-01T12:00:00Z, pre 1969-12-31T23:00:00Z.
        ok("{v: {$hour: {date: \"$d\", timezone: \"+05:30\"}}}", "10"),
        ok("{v: {$minute: {date: \"$d\", timezone: \"+0530\"}}}", "36"),
        ok("{v: {$hour: {date: \"$d\", timezone: \"+05\"}}}", "10"),
        ok("{v: {$dayOfMonth: {date: \"$d\", timezone: \"-0800\"}}}", "3"),
        ok("{v: {$dayOfWeek: {date: \"$d\", timezone: \"-08:00\"}}}", "4"),
        ok("{v: {$hour: {date: \"$d\", timezone: \"-08:00\"}}}", "21"),
        ok("{v: {$second: {date: \"$d\", timezone: \"-08:00\"}}}", "7"),
        ok("{v: {$year: {date: \"$pre\", timezone: \"+01:00\"}}}", "1970"),
        ok("{v: {$month: {date: \"$pre\", timezone: \"+01:00\"}}}", "1"),
        ok("{v: {$hour: {date: \"$d\", timezone: \"America/New_York\"}}}", "0"),  // EST, -5
        ok("{v: {$hour: {date: \"$summer\", timezone: \"America/New_York\"}}}", "8"),  // EDT, -4
        ok("{v: {$hour: {date: \"$summer\", timezone: \"Europe/Paris\"}}}", "14"),  // CEST, +2
        ok("{v: {$hour: {date: \"$d\", timezone: \"$n\"}}}", "null"),
        ok("{v: {$dateToString: {format: \"%Y-%m-%d %H:%M %z %Z\", date: \"$d\", timezone: \"+05:30\"}}}", "\"2021-03-04 10:36 +0530 +330\""),
        ok("{v: {$dateToString: {format: \"%d %H:%M %z %Z\", date: \"$d\", timezone: \"-08:00\"}}}", "\"03 21:06 -0800 -480\""),
        ok("{v: {$dateToString: {format: \"%H:%M %z\", date: \"$summer\", timezone: \"Asia/Kolkata\"}}}", "\"17:30 +0530\""),
        ok("{v: {$dateToString: {format: \"%H %z\", date: \"$d\", timezone: \"UTC\"}}}", "\"05 +0000\""),
        ok("{v: {$dateToString: {date: \"$d\", timezone: \"$n\"}}}", "null"),
    ]

    @Test(arguments: cases)
    func pipelineExpressionEvaluatesAsMongoDB(_ testCase: ExpressionCase) throws {
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
        ("{v: {$switch: {branches: [{case: false, then: 1}]}}}", 40066),
        ("{v: {$toInt: \"abc\"}}", 241), ("{v: {$toInt: 3000000000}}", 241), ("{v: {$toDate: \"not a date\"}}", 241),
        ("{v: {$toDouble: {x: 1}}}", 241), ("{v: {$split: [\"a\", \"\"]}}", 40087), ("{v: {$split: [1, \",\"]}}", 40085),
        ("{v: {$filter: {input: 1, cond: true}}}", 28651), ("{v: {$map: {input: \"x\", in: 1}}}", 16883),
        ("{v: {$slice: [1, 2]}}", 28724), ("{v: {$year: \"x\"}}", 16006), ("{v: {$round: \"x\"}}", 51081),
        ("{v: {$let: {vars: {x: 1}, in: \"$$y\"}}}", 17276),
        ("{v: {$hour: {date: \"$d\", timezone: \"$a\"}}}", 40517), ("{v: {$hour: {date: \"$d\", timezone: \"$s\"}}}", 40485),
    ]

    @Test func pipelineExpressionErrorsUseMongoDBCodes() throws {
        let document = QueryFixtures.doc(AggregateExpressionTests.doc)
        for (text, code) in AggregateExpressionTests.errors {
            guard let spec = QueryFixtures.doc(text)["v"] else { continue }
            let thrown = QueryFixtures.errorCode { try Expression(spec).evaluate(document) }
            #expect(thrown == code, "\(text)")
        }
    }

    static let parseErrors: [(String, Int32)] = [
        ("{v: {$frobnicate: 1}}", 168), ("{v: {$let: {vars: {X: 1}, in: 1}}}", 9), ("{v: {$let: {in: 1}}}", 9),
        ("{v: {$filter: {input: [], cond: true, bogus: 1}}}", 9), ("{v: {$map: {input: []}}}", 9),
        ("{v: {$switch: {branches: []}}}", 40068), ("{v: {$dateToString: {date: 1, format: \"%Q\"}}}", 18536),
        ("{v: {$year: {date: 1, timezone: \"Nowhere/Land\"}}}", 40485),
        ("{v: {$year: {date: 1, timezone: \"+25:99\"}}}", 40485), ("{v: {$trim: {chars: \"x\"}}}", 9),
    ]

    @Test func malformedPipelineExpressionsAreRejectedAtParse() {
        for (text, code) in AggregateExpressionTests.parseErrors {
            guard let spec = QueryFixtures.doc(text)["v"] else { continue }
            #expect(QueryFixtures.errorCode { try Expression(spec) } == code, "\(text)")
        }
    }

    @Test func unknownOperatorErrorNamesIt() throws {
        do {
            _ = try Expression(.document(["$frobnicate": .int32(1)]))
            Issue.record("expected an error")
        } catch let error as OsmanthusError {
            #expect(error.code.name == "InvalidPipelineOperator")
            #expect(error.message == "Unrecognized expression '$frobnicate'")
        }
    }
}
