import OsmanthusBSON
import Testing

@testable import Osmanthus

/// One filter against one document, with the result MongoDB documents for it.
struct MatchCase: Sendable, CustomTestStringConvertible {
    let filter: String
    let document: String
    let expected: Bool
    var testDescription: String { "\(filter) on \(document) → \(expected)" }

    /// Expands `(filter, [(document, expected)])` groups.
    static func table(_ groups: [(String, [(String, Bool)])]) -> [MatchCase] {
        groups.flatMap { filter, rows in rows.map { MatchCase(filter: filter, document: $0.0, expected: $0.1) } }
    }
}

struct FilterTests {
    /// Equality, dotted paths and MongoDB's array semantics.
    static let equalityCases = MatchCase.table([
        ("{}", [("{a: 1}", true), ("{}", true)]),
        ("{a: 1}", [
            ("{a: 1}", true), ("{a: 1.0}", true), ("{a: NumberLong(1)}", true), ("{a: NumberDecimal(\"1.0\")}", true),
            ("{a: \"1\"}", false), ("{b: 1}", false), ("{a: [1, 2]}", true), ("{a: [[1], 2]}", false), ("{a: true}", false),
            ("{a: {b: 1}}", false), ("{a: null}", false),
        ]),
        ("{a: [1, 2]}", [
            ("{a: [1, 2]}", true), ("{a: [2, 1]}", false), ("{a: [[1, 2], 3]}", true), ("{a: 1}", false), ("{a: [1, 2, 3]}", false),
            ("{a: [1.0, NumberLong(2)]}", true),
        ]),
        ("{a: [1]}", [("{a: 1}", false), ("{a: [1]}", true), ("{a: [[1]]}", true)]),
        ("{a: []}", [("{a: []}", true), ("{a: [[]]}", true), ("{}", false), ("{a: null}", false)]),
        ("{a: {b: 1}}", [
            ("{a: {b: 1}}", true), ("{a: {b: 1, c: 2}}", false), ("{a: {b: 1.0}}", true), ("{a: [{b: 1}]}", true),
            ("{a: [{b: 1, c: 1}]}", false),
        ]),
        ("{a: {b: 1, c: 2}}", [("{a: {b: 1, c: 2}}", true), ("{a: {c: 2, b: 1}}", false)]),
        ("{\"a.b\": 1}", [
            ("{a: {b: 1}}", true), ("{a: [{b: 2}, {b: 1}]}", true), ("{a: [{b: [0, 1]}]}", true), ("{a: [[{b: 1}]]}", false),
            ("{a: 1}", false), ("{a: {b: [1]}}", true), ("{a: {c: 1}}", false), ("{a: [1, {b: 1}]}", true),
        ]),
        ("{\"a.0\": 1}", [("{a: [1, 2]}", true), ("{a: [2, 1]}", false), ("{a: {\"0\": 1}}", true), ("{a: [[1]]}", false)]),
        ("{\"a.1\": 2}", [("{a: [1, 2]}", true), ("{a: [2]}", false)]),
        ("{\"a.0\": 5}", [("{a: [{\"0\": 5}]}", true), ("{a: [{\"0\": 4}]}", false)]),
        ("{\"a.0.b\": 1}", [("{a: [{b: 1}]}", true), ("{a: [{b: 2}, {b: 1}]}", false)]),
        ("{\"a.1.b\": 2}", [("{a: [{b: 1}, {b: 2}]}", true)]),
        ("{\"a.01\": 1}", [("{a: [5, 1]}", false), ("{a: {\"01\": 1}}", true)]),
        ("{\"a.b.c\": 1}", [("{a: {b: [{c: 1}]}}", true), ("{a: [{b: [{c: 2}, {c: 1}]}]}", true), ("{a: {b: {c: 2}}}", false)]),
        ("{\"a.b\": 2}", [("{a: [{b: [1, 2]}]}", true), ("{a: [{b: [[2]]}]}", false)]),
        ("{\"a.0.0\": 1}", [("{a: [[1, 2]]}", true), ("{a: [[2, 1]]}", false)]),
        ("{a: \"x\"}", [("{a: \"x\"}", true), ("{a: \"X\"}", false), ("{a: Symbol(x)}", true)]),
        ("{_id: 1}", [("{_id: 1, a: 2}", true), ("{_id: 2}", false)]),
        ("{a: 1, b: 2}", [("{a: 1, b: 2}", true), ("{b: 2, a: 1}", true), ("{a: 1}", false)]),
        ("{a: Date(1000)}", [("{a: Date(1000)}", true), ("{a: 1000}", false)]),
        ("{a: ObjectId(\"507f1f77bcf86cd799439011\")}", [
            ("{a: ObjectId(\"507f1f77bcf86cd799439011\")}", true), ("{a: \"507f1f77bcf86cd799439011\"}", false),
        ]),
        ("{a: {$ref: \"c\", $id: 1}}", [("{a: {$ref: \"c\", $id: 1}}", true), ("{a: {$ref: \"c\", $id: 2}}", false)]),
        ("{a: {$eq: {$gt: 1}}}", [("{a: {$gt: 1}}", true), ("{a: 2}", false)]),
        ("{a: {$eq: [1, 2]}}", [("{a: [1, 2]}", true), ("{a: [[1, 2]]}", true), ("{a: 1}", false)]),
        ("{a: {$eq: /x/}}", [("{a: /x/}", true), ("{a: \"x\"}", false)]),
        ("{\"\": 1}", [("{\"\": 1}", true), ("{a: 1}", false)]),
        ("{\"a.\": 1}", [("{a: {\"\": 1}}", true), ("{a: 1}", false)]),
    ])

    /// `null` matches null and missing; `$exists` tells them apart.
    static let nullCases = MatchCase.table([
        ("{a: null}", [
            ("{}", true), ("{a: null}", true), ("{a: 0}", false), ("{a: false}", false), ("{a: [1, null]}", true),
            ("{a: []}", false), ("{a: [1]}", false), ("{a: undefined}", false), ("{b: null}", true),
        ]),
        ("{\"a.b\": null}", [
            ("{a: {}}", true), ("{a: 5}", true), ("{a: [{b: 1}, {c: 1}]}", true), ("{a: [{b: 1}]}", false),
            ("{a: [1, 2]}", false), ("{a: {b: null}}", true), ("{}", true), ("{a: []}", false),
        ]),
        ("{a: {$ne: null}}", [("{a: 1}", true), ("{}", false), ("{a: null}", false), ("{a: [1, null]}", false), ("{a: []}", true)]),
        ("{a: {$exists: true}}", [("{a: null}", true), ("{}", false), ("{a: []}", true), ("{a: 0}", true)]),
        ("{a: {$exists: false}}", [("{}", true), ("{a: null}", false), ("{b: 1}", true)]),
        ("{a: {$exists: 1}}", [("{a: 1}", true), ("{}", false)]),
        ("{a: {$exists: 0}}", [("{a: 1}", false), ("{}", true)]),
        ("{\"a.b\": {$exists: true}}", [("{a: [{b: 1}]}", true), ("{a: [{c: 1}]}", false), ("{a: [{c: 1}, {b: null}]}", true), ("{a: 1}", false)]),
        ("{\"a.b\": {$exists: false}}", [("{a: [1, 2]}", true), ("{a: [{b: 1}]}", false)]),
        ("{\"a.1\": {$exists: true}}", [("{a: [1, 2]}", true), ("{a: [1]}", false)]),
        ("{a: {$gte: null}}", [("{}", true), ("{a: null}", true), ("{a: 1}", false)]),
        ("{a: {$lte: null}}", [("{}", true), ("{a: null}", true)]),
        ("{a: {$gt: null}}", [("{}", false), ("{a: null}", false), ("{a: 1}", false)]),
        ("{a: {$lt: null}}", [("{}", false), ("{a: null}", false)]),
        ("{a: {$in: [null]}}", [("{}", true), ("{a: null}", true), ("{a: 1}", false)]),
        ("{a: {$in: [null, 1]}}", [("{a: 1}", true), ("{}", true), ("{a: 2}", false)]),
        ("{a: {$nin: [null]}}", [("{}", false), ("{a: 1}", true)]),
        ("{a: {$type: \"null\"}}", [("{}", false), ("{a: null}", true)]),
    ])

    /// Comparisons hold only within one type bracket; arrays match through any element.
    static let comparisonCases = MatchCase.table([
        ("{a: {$gt: 5}}", [
            ("{a: 6}", true), ("{a: 5}", false), ("{a: 5.5}", true), ("{a: \"6\"}", false), ("{a: [1, 7]}", true), ("{a: [1, 2]}", false),
            ("{a: NumberLong(6)}", true), ("{a: NumberDecimal(\"5.01\")}", true), ("{a: Infinity}", true), ("{a: true}", false),
            ("{a: Date(10)}", false), ("{}", false), ("{a: null}", false), ("{a: [[6]]}", false),
        ]),
        ("{a: {$gte: 5}}", [("{a: 5}", true), ("{a: 5.0}", true), ("{a: 4.999}", false)]),
        ("{a: {$lt: 5}}", [("{a: 4}", true), ("{a: -Infinity}", true), ("{a: null}", false), ("{}", false), ("{a: \"4\"}", false)]),
        ("{a: {$lte: 5}}", [("{a: 5}", true), ("{a: NumberLong(5)}", true), ("{a: 6}", false)]),
        ("{a: {$gt: \"a\"}}", [("{a: \"b\"}", true), ("{a: \"A\"}", false), ("{a: 5}", false), ("{a: Symbol(b)}", true)]),
        ("{a: {$gte: 5, $lte: 10}}", [("{a: [3, 12]}", true), ("{a: 7}", true), ("{a: 11}", false), ("{a: []}", false)]),
        ("{a: {$gt: 5, $lt: 5}}", [("{a: 5}", false), ("{a: [4, 6]}", true)]),
        ("{a: {$gt: [1]}}", [("{a: [2]}", true), ("{a: [0]}", false), ("{a: 2}", false)]),
        ("{a: {$ne: 5}}", [("{a: [5, 6]}", false), ("{a: [6]}", true), ("{a: 5.0}", false), ("{}", true), ("{a: \"5\"}", true)]),
        ("{a: {$eq: 5}}", [("{a: 5}", true), ("{a: [4, 5]}", true)]),
        ("{a: {$gt: MinKey}}", [("{a: \"x\"}", true), ("{a: null}", true), ("{a: MinKey}", false)]),
        ("{a: {$lt: MaxKey}}", [("{a: {b: 1}}", true), ("{a: MaxKey}", false)]),
        ("{a: {$lte: MaxKey}}", [("{a: MaxKey}", true)]),
        ("{a: NaN}", [("{a: NaN}", true), ("{a: 0}", false), ("{a: NumberDecimal(\"NaN\")}", true)]),
        ("{a: {$gt: 0}}", [("{a: NaN}", false)]),
        ("{a: {$lt: 0}}", [("{a: NaN}", false)]),
        ("{a: {$gte: NaN}}", [("{a: NaN}", true), ("{a: 1}", false)]),
        ("{a: {$gt: 9007199254740992}}", [("{a: NumberLong(9007199254740993)}", true), ("{a: 9007199254740992.0}", false)]),
        ("{a: {$gt: false}}", [("{a: true}", true), ("{a: 1}", false)]),
        ("{a: {$lt: 1}}", [("{a: true}", false), ("{a: false}", false), ("{a: 0}", true)]),
        ("{a: {$gt: Date(100)}}", [("{a: Date(101)}", true), ("{a: 101}", false), ("{a: Timestamp(1, 1)}", false)]),
        ("{a: {$gt: {b: 1}}}", [("{a: {b: 2}}", true), ("{a: {c: 0}}", true), ("{a: {b: 0}}", false), ("{a: [1]}", false)]),
        ("{\"a.b\": {$gt: 1}}", [("{a: [{b: [0, 5]}]}", true), ("{a: [{b: 1}, {b: 0}]}", false)]),
        ("{a: {$gt: ObjectId(\"507f1f77bcf86cd799439011\")}}", [
            ("{a: ObjectId(\"507f1f77bcf86cd799439012\")}", true), ("{a: ObjectId(\"507f1f77bcf86cd799439010\")}", false),
        ]),
        ("{a: {$lt: Timestamp(5, 1)}}", [("{a: Timestamp(4, 9)}", true), ("{a: Timestamp(5, 2)}", false)]),
    ])

    static let setCases = MatchCase.table([
        ("{a: {$in: [1, 2]}}", [("{a: 2}", true), ("{a: 3}", false), ("{a: [3, 2]}", true), ("{}", false), ("{a: 2.0}", true)]),
        ("{a: {$in: []}}", [("{a: 1}", false), ("{}", false)]),
        ("{a: {$nin: [1, 2]}}", [("{a: 3}", true), ("{}", true), ("{a: [3, 1]}", false), ("{a: [3, 4]}", true)]),
        ("{a: {$nin: []}}", [("{}", true), ("{a: 1}", true)]),
        ("{a: {$in: [/^x/]}}", [("{a: \"xyz\"}", true), ("{a: \"axy\"}", false), ("{a: [\"b\", \"xb\"]}", true)]),
        ("{a: {$in: [/^A/i, 5]}}", [("{a: \"abc\"}", true), ("{a: 5}", true), ("{a: 6}", false)]),
        ("{a: {$in: [[1, 2]]}}", [("{a: [1, 2]}", true), ("{a: 1}", false)]),
        ("{a: {$in: [{b: 1}]}}", [("{a: {b: 1}}", true), ("{a: [{b: 1}]}", true), ("{a: {b: 2}}", false)]),
        ("{a: {$all: [1, 2]}}", [("{a: [2, 3, 1]}", true), ("{a: [1]}", false), ("{a: 1}", false), ("{}", false)]),
        ("{a: {$all: [1]}}", [("{a: 1}", true), ("{a: [1, 5]}", true)]),
        ("{a: {$all: []}}", [("{a: [1]}", false), ("{}", false)]),
        ("{a: {$all: [[1, 2]]}}", [("{a: [1, 2]}", true), ("{a: [[1, 2], 3]}", true), ("{a: [2, 1]}", false)]),
        ("{a: {$all: [/^x/, /y$/]}}", [("{a: [\"xa\", \"ay\"]}", true), ("{a: [\"xa\"]}", false), ("{a: \"xy\"}", true)]),
        ("{a: {$all: [{$elemMatch: {b: 1}}, {$elemMatch: {c: 2}}]}}", [
            ("{a: [{b: 1}, {c: 2}]}", true), ("{a: [{b: 1}]}", false),
        ]),
        ("{\"a.b\": {$all: [1, 2]}}", [("{a: [{b: 1}, {b: 2}]}", true), ("{a: [{b: 1}]}", false)]),
    ])

    static let logicalCases = MatchCase.table([
        ("{$and: [{a: 1}, {b: 2}]}", [("{a: 1, b: 2}", true), ("{a: 1}", false)]),
        ("{$and: [{a: {$gt: 1}}, {a: {$lt: 5}}]}", [("{a: 3}", true), ("{a: [0, 6]}", true), ("{a: 6}", false)]),
        ("{$or: [{a: 1}, {b: 2}]}", [("{b: 2}", true), ("{a: 1}", true), ("{c: 1}", false), ("{}", false)]),
        ("{$nor: [{a: 1}, {b: 2}]}", [("{c: 1}", true), ("{a: 1}", false), ("{b: 2}", false), ("{}", true)]),
        ("{a: 1, $or: [{b: 1}, {c: 1}]}", [("{a: 1, c: 1}", true), ("{a: 2, c: 1}", false), ("{a: 1}", false)]),
        ("{$or: [{$and: [{a: 1}, {b: 1}]}, {c: 1}]}", [("{a: 1, b: 1}", true), ("{a: 1}", false), ("{c: 1}", true)]),
        ("{$and: [{$or: [{a: 1}, {a: 2}]}, {$or: [{b: 1}, {b: 2}]}]}", [("{a: 2, b: 1}", true), ("{a: 3, b: 1}", false)]),
        ("{a: {$not: {$gt: 5}}}", [("{a: 3}", true), ("{a: 6}", false), ("{}", true), ("{a: \"x\"}", true), ("{a: [3, 6]}", false)]),
        ("{a: {$not: /^x/}}", [("{a: \"xy\"}", false), ("{a: \"yx\"}", true), ("{}", true)]),
        ("{a: {$not: {$regex: \"^x\", $options: \"i\"}}}", [("{a: \"Xy\"}", false), ("{a: \"y\"}", true)]),
        ("{a: {$not: {$in: [1, 2]}}}", [("{a: 1}", false), ("{a: 3}", true)]),
        ("{a: {$not: {$gt: 1, $lt: 3}}}", [("{a: 2}", false), ("{a: 5}", true)]),
        ("{$comment: \"why\", a: 1}", [("{a: 1}", true), ("{a: 2}", false)]),
        ("{$alwaysFalse: 1}", [("{}", false)]),
        ("{$alwaysTrue: 1}", [("{}", true)]),
    ])

    static let typeAndSizeCases = MatchCase.table([
        ("{a: {$type: \"string\"}}", [("{a: \"x\"}", true), ("{a: 1}", false), ("{a: [\"x\", 1]}", true), ("{}", false)]),
        ("{a: {$type: 2}}", [("{a: \"x\"}", true), ("{a: 2}", false)]),
        ("{a: {$type: \"number\"}}", [
            ("{a: 1.5}", true), ("{a: NumberLong(1)}", true), ("{a: NumberDecimal(\"1\")}", true), ("{a: 1}", true), ("{a: \"1\"}", false),
        ]),
        ("{a: {$type: \"array\"}}", [("{a: []}", true), ("{a: [1]}", true), ("{a: 1}", false), ("{a: [[1]]}", true)]),
        ("{a: {$type: [\"string\", \"int\"]}}", [("{a: 5}", true), ("{a: \"s\"}", true), ("{a: 5.0}", false)]),
        ("{a: {$type: \"long\"}}", [("{a: 5}", false), ("{a: NumberLong(5)}", true)]),
        ("{a: {$type: \"object\"}}", [("{a: {}}", true), ("{a: []}", false)]),
        ("{a: {$type: \"double\"}}", [("{a: 1.0}", true), ("{a: 1}", false)]),
        ("{a: {$type: \"date\"}}", [("{a: Date(5)}", true), ("{a: Timestamp(1, 1)}", false)]),
        ("{a: {$type: \"bool\"}}", [("{a: false}", true)]),
        ("{a: {$type: \"regex\"}}", [("{a: /x/}", true)]),
        ("{a: {$type: -1}}", [("{a: MinKey}", true), ("{a: MaxKey}", false)]),
        ("{a: {$type: 127}}", [("{a: MaxKey}", true)]),
        ("{a: {$type: \"decimal\"}}", [("{a: NumberDecimal(\"2\")}", true), ("{a: 2}", false)]),
        ("{a: {$size: 2}}", [("{a: [1, 2]}", true), ("{a: [1]}", false), ("{a: 2}", false), ("{a: [[1, 2]]}", false), ("{}", false)]),
        ("{a: {$size: 0}}", [("{a: []}", true), ("{}", false), ("{a: [[]]}", false)]),
        ("{a: {$size: 1.0}}", [("{a: [7]}", true)]),
        ("{\"a.b\": {$size: 1}}", [("{a: [{b: [1]}, {b: [1, 2]}]}", true), ("{a: [{b: [1, 2]}]}", false)]),
    ])

    static let elemMatchCases = MatchCase.table([
        ("{a: {$elemMatch: {b: 1, c: 2}}}", [("{a: [{b: 1, c: 2}]}", true), ("{a: [{b: 1}, {c: 2}]}", false), ("{a: {b: 1, c: 2}}", false)]),
        ("{\"a.b\": 1, \"a.c\": 2}", [("{a: [{b: 1}, {c: 2}]}", true)]),
        ("{a: {$elemMatch: {$gte: 5, $lte: 10}}}", [("{a: [3, 12]}", false), ("{a: [3, 7]}", true), ("{a: 7}", false)]),
        ("{a: {$elemMatch: {$gt: 1, $lt: 3}}}", [("{a: [0, 2]}", true), ("{a: [0, 3]}", false)]),
        ("{a: {$elemMatch: {$eq: 1}}}", [("{a: [[1]]}", false), ("{a: [1]}", true)]),
        ("{a: {$elemMatch: {$in: [1, 2]}}}", [("{a: [3, 2]}", true), ("{a: [3]}", false)]),
        ("{a: {$elemMatch: {$not: {$gt: 5}}}}", [("{a: [6, 7]}", false), ("{a: [6, 1]}", true)]),
        ("{\"a.b\": {$elemMatch: {c: 1}}}", [("{a: [{b: [{c: 1}]}]}", true), ("{a: [{b: {c: 1}}]}", false)]),
        ("{a: {$elemMatch: {$or: [{b: 1}, {c: 1}]}}}", [("{a: [{c: 1}]}", true), ("{a: [{d: 1}]}", false)]),
        ("{a: {$elemMatch: {b: {$elemMatch: {$gt: 5}}}}}", [("{a: [{b: [1, 6]}]}", true), ("{a: [{b: [1, 5]}]}", false)]),
        ("{a: {$elemMatch: {b: null}}}", [("{a: [{c: 1}]}", true), ("{a: [{b: 1}]}", false), ("{a: [1]}", false)]),
        ("{a: {$elemMatch: {}}}", [("{a: [{}]}", true), ("{a: [1]}", false), ("{a: [[1]]}", true)]),
        ("{a: {$elemMatch: {\"0\": 1}}}", [("{a: [[1, 2]]}", true)]),
        ("{a: {$elemMatch: {b: {$gt: 1}, c: {$lt: 5}}}}", [("{a: [{b: 2, c: 9}, {b: 0, c: 1}]}", false), ("{a: [{b: 2, c: 1}]}", true)]),
    ])

    static let regexCases = MatchCase.table([
        ("{a: {$regex: \"^ab\"}}", [("{a: \"abc\"}", true), ("{a: \"cab\"}", false), ("{a: 1}", false), ("{}", false)]),
        ("{a: {$regex: \"AB\", $options: \"i\"}}", [("{a: \"xabx\"}", true), ("{a: \"xa\"}", false)]),
        ("{a: /^b/m}", [("{a: \"a\\nb\"}", true)]),
        ("{a: /^b/}", [("{a: \"a\\nb\"}", false), ("{a: \"b\"}", true)]),
        ("{a: /a.b/s}", [("{a: \"a\\nb\"}", true)]),
        ("{a: /a.b/}", [("{a: \"a\\nb\"}", false), ("{a: \"axb\"}", true)]),
        ("{a: {$regex: \"a b # comment\", $options: \"x\"}}", [("{a: \"ab\"}", true), ("{a: \"a b\"}", false)]),
        ("{a: /x/}", [("{a: [\"a\", \"x\"]}", true), ("{a: /x/}", true), ("{a: /x/i}", false), ("{a: Symbol(xx)}", true)]),
        ("{a: /^a$/}", [("{a: \"a\"}", true), ("{a: \"a\\n\"}", true), ("{a: \"a\\nb\"}", false)]),
        ("{a: {$regex: /ab/, $options: \"i\"}}", [("{a: \"AB\"}", true)]),
        ("{a: {$regex: /ab/i}}", [("{a: \"AB\"}", true)]),
        ("{a: /é/i}", [("{a: \"É\"}", true)]),
        ("{a: /^\\d+$/}", [("{a: \"123\"}", true), ("{a: \"12a\"}", false)]),
        ("{a: /^.$/}", [("{a: \"é\"}", true), ("{a: \"ab\"}", false)]),
        ("{a: /(a)\\1/}", [("{a: \"aa\"}", true), ("{a: \"ab\"}", false)]),
        ("{a: /^[[:alpha:]]+$/}", [("{a: \"abc\"}", true), ("{a: \"ab1\"}", false)]),
        ("{a: /colou?r/u}", [("{a: \"color\"}", true)]),
        ("{\"a.b\": /^x/}", [("{a: [{b: \"xa\"}]}", true)]),
    ])

    static let modAndBitsCases = MatchCase.table([
        ("{a: {$mod: [4, 0]}}", [
            ("{a: 8}", true), ("{a: 9}", false), ("{a: 8.9}", true), ("{a: -8}", true), ("{a: \"8\"}", false), ("{a: [1, 12]}", true),
            ("{a: NumberLong(16)}", true), ("{a: NaN}", false), ("{}", false),
        ]),
        ("{a: {$mod: [3, -1]}}", [("{a: -4}", true), ("{a: 2}", false)]),
        ("{a: {$mod: [4.5, 0]}}", [("{a: 8}", true)]),
        ("{a: {$bitsAllSet: [0, 1]}}", [("{a: 3}", true), ("{a: 2}", false), ("{a: 1.5}", false), ("{a: \"x\"}", false), ("{a: 3.0}", true)]),
        ("{a: {$bitsAnySet: 5}}", [("{a: 4}", true), ("{a: 2}", false)]),
        ("{a: {$bitsAllClear: [0]}}", [("{a: 2}", true), ("{a: 3}", false)]),
        ("{a: {$bitsAnyClear: [0, 1]}}", [("{a: 3}", false), ("{a: 1}", true)]),
        ("{a: {$bitsAllSet: [63]}}", [("{a: -1}", true), ("{a: 1}", false)]),
    ])

    static let exprCases = MatchCase.table([
        ("{$expr: {$gt: [\"$a\", \"$b\"]}}", [("{a: 5, b: 3}", true), ("{a: 1, b: 3}", false), ("{a: 1}", true)]),
        ("{$expr: {$eq: [\"$a\", null]}}", [("{}", false), ("{a: null}", true)]),
        ("{$expr: {$and: [{$gte: [\"$a\", 1]}, {$lte: [\"$a\", 3]}]}}", [("{a: 2}", true), ("{a: 4}", false)]),
        ("{$expr: \"$flag\"}", [("{flag: true}", true), ("{flag: 0}", false), ("{}", false), ("{flag: []}", true)]),
        ("{$expr: {$in: [\"x\", \"$tags\"]}}", [("{tags: [\"x\"]}", true), ("{tags: [\"y\"]}", false), ("{}", false)]),
        ("{$expr: {$eq: [{$size: \"$a\"}, 2]}}", [("{a: [1, 2]}", true), ("{a: [1]}", false)]),
        ("{$expr: {$lt: [\"$a\", {$add: [\"$b\", 1]}]}}", [("{a: 3, b: 3}", true), ("{a: 4, b: 3}", false)]),
        ("{a: 1, $expr: {$eq: [\"$b\", 2]}}", [("{a: 1, b: 2}", true), ("{a: 2, b: 2}", false)]),
        ("{$expr: {$divide: [1, \"$z\"]}}", [("{z: 0}", false), ("{z: 2}", true)]),
    ])

    static let allCases =
        equalityCases + nullCases + comparisonCases + setCases + logicalCases + typeAndSizeCases + elemMatchCases
        + regexCases + modAndBitsCases + exprCases

    @Test(arguments: allCases)
    func filterMatchesAsMongoDBDocuments(_ testCase: MatchCase) throws {
        let filter = try Filter(QueryFixtures.doc(testCase.filter))
        #expect(filter.matches(QueryFixtures.doc(testCase.document)) == testCase.expected)
    }

    struct PositionCase: Sendable, CustomTestStringConvertible {
        let filter: String
        let document: String
        let index: Int?
        var testDescription: String { "\(filter) on \(document) → \(index.map(String.init) ?? "nil")" }
    }

    static let positionCases: [PositionCase] = [
        PositionCase(filter: "{a: 2}", document: "{a: [1, 2, 3]}", index: 1),
        PositionCase(filter: "{\"a.b\": 5}", document: "{a: [{b: 1}, {b: 5}]}", index: 1),
        PositionCase(filter: "{a: {$elemMatch: {b: 5}}}", document: "{a: [{b: 1}, {b: 5}]}", index: 1),
        PositionCase(filter: "{a: [1, 2]}", document: "{a: [1, 2]}", index: nil),
        PositionCase(filter: "{a: 1, b: 2}", document: "{a: [0, 1], b: [2]}", index: 0),
        PositionCase(filter: "{b: 2, a: 1}", document: "{a: [0, 1], b: [2]}", index: 1),
        PositionCase(filter: "{\"a.b\": 2}", document: "{a: [{b: [1, 2]}]}", index: 0),
        PositionCase(filter: "{a: 1}", document: "{a: 1}", index: nil),
        PositionCase(filter: "{$or: [{a: 5}, {a: 2}]}", document: "{a: [1, 2]}", index: 1),
        PositionCase(filter: "{\"a.1\": 2}", document: "{a: [1, 2]}", index: nil),
        PositionCase(filter: "{a: {$gt: 1}}", document: "{a: [0, 1, 5, 7]}", index: 2),
        PositionCase(filter: "{a: 9}", document: "{a: [1, 2]}", index: nil),
        PositionCase(filter: "{\"a.b\": {$gt: 2}, c: 1}", document: "{a: [{b: 1}, {b: 3}], c: 1}", index: 1),
    ]

    @Test(arguments: positionCases)
    func matchReportsTheArrayPositionForPositionalOperators(_ testCase: PositionCase) throws {
        let result = try Filter(QueryFixtures.doc(testCase.filter)).match(QueryFixtures.doc(testCase.document))
        #expect(result.arrayIndex == testCase.index)
    }

    static let invalidFilters: [(String, Int32)] = [
        ("{a: {$foo: 1}}", 2), ("{$foo: 1}", 2), ("{$and: []}", 2), ("{$or: 1}", 2), ("{$and: [1]}", 2), ("{$nor: [{}, 2]}", 2),
        ("{a: {$in: 1}}", 2), ("{a: {$nin: {}}}", 2), ("{a: {$all: 1}}", 2), ("{a: {$size: -1}}", 2), ("{a: {$size: 1.5}}", 2),
        ("{a: {$size: \"1\"}}", 2), ("{a: {$mod: [0, 1]}}", 2), ("{a: {$mod: [1]}}", 2), ("{a: {$mod: [1, 2, 3]}}", 2),
        ("{a: {$mod: 3}}", 2), ("{a: {$regex: 1}}", 2), ("{a: {$options: \"i\"}}", 2), ("{a: {$regex: \"(?<=a)b\"}}", 2),
        ("{a: {$regex: \"[\"}}", 2), ("{a: {$regex: \"a\", $options: \"q\"}}", 2), ("{a: {$not: 1}}", 2), ("{a: {$not: {}}}", 2),
        ("{a: {$elemMatch: 1}}", 2), ("{a: {$type: \"foo\"}}", 2), ("{a: {$type: 100}}", 2), ("{a: {$in: [{$gt: 1}]}}", 2),
        ("{a: {$gt: /x/}}", 2), ("{a: {$gt: 1, b: 2}}", 2), ("{$where: \"true\"}", 238), ("{a: {$near: [0, 0]}}", 238),
        ("{a: {$elemMatch: {$expr: {$eq: [1, 1]}}}}", 2), ("{$expr: {$foo: 1}}", 168), ("{$alwaysTrue: 2}", 9),
        ("{a: {$all: [{$elemMatch: {b: 1}}, 2]}}", 2), ("{a: {$all: [{$gt: 1}]}}", 2), ("{a: {$bitsAllSet: -1}}", 2),
        ("{a: {$regex: /a/i, $options: \"m\"}}", 2), ("{$expr: {$add: 1, $sub: 2}}", 15983), ("{$expr: {$eq: [1]}}", 16020),
        ("{a: {$type: []}}", 9), ("{a: {$not: {b: 1}}}", 2),
    ]

    @Test func invalidFiltersAreRejectedWithMongoDBCodes() {
        for (spec, code) in FilterTests.invalidFilters {
            let thrown = QueryFixtures.errorCode { try Filter(QueryFixtures.doc(spec)) }
            #expect(thrown == code, "\(spec)")
        }
    }

    @Test func unknownOperatorMessageNamesTheOperator() {
        #expect(throws: OsmanthusError.self) { try Filter(QueryFixtures.doc("{a: {$foo: 1}}")) }
        do {
            _ = try Filter(QueryFixtures.doc("{a: {$foo: 1}}"))
        } catch let error as OsmanthusError {
            #expect(error.message == "unknown operator: $foo")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func equalitiesCollectTopLevelEqualityConditions() throws {
        let filter = try Filter(
            QueryFixtures.doc(
                "{a: 1, b: {$gt: 1}, c: {$eq: 2}, \"d.e\": 3, $and: [{f: 4}], $or: [{g: 5}], h: {$in: [6]}, i: /x/, j: {$in: [1, 2]}}"))
        let equalities = filter.equalities
        #expect(equalities.count == 6)
        #expect(equalities["a"] == .int32(1))
        #expect(equalities["c"] == .int32(2))
        #expect(equalities["d.e"] == .int32(3))
        #expect(equalities["f"] == .int32(4))
        #expect(equalities["g"] == .int32(5))
        #expect(equalities["h"] == .int32(6))
        #expect(try Filter(QueryFixtures.doc("{$or: [{a: 1}, {b: 2}]}")).equalities.isEmpty)
        #expect(try Filter(QueryFixtures.doc("{a: {$not: {$eq: 1}}}")).equalities.isEmpty)
    }

    @Test func regexFiltersCanBeSharedAcrossTasks() async throws {
        let filter = try Filter(QueryFixtures.doc("{name: /^user[0-9]*5$/i, tags: {$in: [/x/, \"y\"]}}"))
        let counts = await withTaskGroup(of: Int.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var count = 0
                    for i in 0..<500 {
                        let document: Document = ["name": .string("USER\(i + task)"), "tags": ["y"]]
                        if filter.matches(document) { count += 1 }
                    }
                    return count
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts.count == 4)
        #expect(counts.allSatisfy { $0 == 50 })
    }

    @Test func exprErrorsSurfaceThroughEvaluate() throws {
        let filter = try Filter(QueryFixtures.doc("{$expr: {$divide: [1, \"$z\"]}}"))
        #expect(QueryFixtures.errorCode { try filter.evaluate(QueryFixtures.doc("{z: 0}")) } == 2)
        #expect(!filter.matches(QueryFixtures.doc("{z: 0}")))
    }

    /// A generated check: `$in` over many values (a binary search inside) agrees with testing
    /// each value in turn, for documents holding scalars and arrays of mixed types.
    @Test func largeInListsAgreeWithALinearScan() throws {
        var generator = SeededGenerator(seed: 7)
        func randomValue() -> BSONValue {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: .int32(Int32.random(in: 0..<40, using: &generator))
            case 1: .double(Double(Int.random(in: 0..<40, using: &generator)) / 2)
            case 2: .int64(Int64.random(in: 0..<40, using: &generator))
            case 3: .string(String(Int.random(in: 0..<40, using: &generator)))
            default: .null
            }
        }
        let list = (0..<60).map { _ in randomValue() }
        let filter = try Filter(["a": ["$in": .array(list)]])
        var matched = 0
        for _ in 0..<400 {
            let value: BSONValue? =
                Int.random(in: 0..<6, using: &generator) == 0
                ? nil : Int.random(in: 0..<3, using: &generator) == 0 ? .array([randomValue(), randomValue()]) : randomValue()
            let document: Document = value.map { ["a": $0] } ?? ["b": 1]
            let candidates: [BSONValue?] = {
                guard let value else { return [nil] }
                if case .array(let elements) = value { return elements + [value] }
                return [value]
            }()
            let expected = candidates.contains { candidate in
                guard let candidate else { return list.contains(.null) }
                return list.contains { $0.type.sortRank == candidate.type.sortRank && BSONValue.compare($0, candidate) == 0 }
            }
            #expect(filter.matches(document) == expected, "\(document)")
            if expected { matched += 1 }
        }
        #expect(matched > 50 && matched < 400)
    }

    /// A generated sweep: every comparison operator against values of every type bracket, the
    /// expectation computed from the type-bracket rule stated independently here.
    @Test func comparisonsNeverCrossTypeBrackets() throws {
        let values = [
            "1", "2.5", "NumberLong(3)", "\"s\"", "\"t\"", "{x: 1}", "[1]", "true", "false", "Date(5)", "null",
            "ObjectId(\"507f1f77bcf86cd799439011\")", "Timestamp(1, 1)",
        ].map { QueryFixtures.value($0) }
        var checked = 0
        for lhs in values {
            for rhs in values {
                for (name, holds) in [
                    ("$lt", { (c: Int) in c < 0 }), ("$lte", { $0 <= 0 }), ("$gt", { $0 > 0 }), ("$gte", { $0 >= 0 }),
                    ("$eq", { $0 == 0 }),
                ] {
                    let filter = try Filter(["a": .document([name: rhs])])
                    let sameBracket = lhs.type.sortRank == rhs.type.sortRank
                    let expected: Bool
                    if case .array = lhs, case .array = rhs {
                        expected = holds(BSONValue.compare(lhs, rhs))
                            || (lhs.arrayValue ?? []).contains { $0.type.sortRank == rhs.type.sortRank && holds(BSONValue.compare($0, rhs)) }
                    } else if case .array(let elements) = lhs {
                        expected = elements.contains { $0.type.sortRank == rhs.type.sortRank && holds(BSONValue.compare($0, rhs)) }
                    } else {
                        expected = sameBracket && holds(BSONValue.compare(lhs, rhs))
                    }
                    #expect(filter.matches(["a": lhs]) == expected, "\(lhs) \(name) \(rhs)")
                    checked += 1
                }
            }
        }
        #expect(checked == 13 * 13 * 5)
    }
}
