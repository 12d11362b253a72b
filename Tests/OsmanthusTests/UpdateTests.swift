import OsmanthusBSON
import Testing

@testable import Osmanthus

/// One update applied to one document: the expected document, or the expected error code.
struct UpdateCase: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        case document(String)
        case error(Int32)
    }

    let document: String
    let update: String
    let expected: Expected
    var arrayFilters = "[]"
    var positionalIndex: Int?
    var isInsert = false

    var testDescription: String { "\(update) on \(document)" }

    static func ok(_ document: String, _ update: String, _ result: String) -> UpdateCase {
        UpdateCase(document: document, update: update, expected: .document(result))
    }

    static func fails(_ document: String, _ update: String, _ code: Int32) -> UpdateCase {
        UpdateCase(document: document, update: update, expected: .error(code))
    }

    func filters(_ text: String) -> UpdateCase {
        var copy = self
        copy.arrayFilters = text
        return copy
    }

    func positional(_ index: Int) -> UpdateCase {
        var copy = self
        copy.positionalIndex = index
        return copy
    }

    func inserting() -> UpdateCase {
        var copy = self
        copy.isInsert = true
        return copy
    }
}

struct UpdateTests {
    static let now: Int64 = 1_700_000_000_123

    static let setAndUnsetCases: [UpdateCase] = [
        .ok("{_id: 1, a: 1}", "{$set: {a: 2}}", "{_id: 1, a: 2}"),
        .ok("{_id: 1}", "{$set: {b: 1, a: 1}}", "{_id: 1, a: 1, b: 1}"),
        .ok("{_id: 1, z: 1}", "{$set: {a: 1}}", "{_id: 1, z: 1, a: 1}"),
        .ok("{_id: 1}", "{$set: {\"a.b.c\": 1}}", "{_id: 1, a: {b: {c: 1}}}"),
        .ok("{_id: 1, a: {x: 1}}", "{$set: {\"a.b\": 2}}", "{_id: 1, a: {x: 1, b: 2}}"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$set: {\"a.1\": 9}}", "{_id: 1, a: [1, 9, 3]}"),
        .ok("{_id: 1, a: [1]}", "{$set: {\"a.3\": 9}}", "{_id: 1, a: [1, null, null, 9]}"),
        .ok("{_id: 1, a: []}", "{$set: {\"a.0.b\": 1}}", "{_id: 1, a: [{b: 1}]}"),
        .ok("{_id: 1, a: []}", "{$set: {\"a.2.b\": 1}}", "{_id: 1, a: [null, null, {b: 1}]}"),
        .ok("{_id: 1, a: [{b: 1}, {b: 2}]}", "{$set: {\"a.1.b\": 5}}", "{_id: 1, a: [{b: 1}, {b: 5}]}"),
        .ok("{_id: 1}", "{$set: {\"a.0\": 1}}", "{_id: 1, a: {\"0\": 1}}"),
        .ok("{_id: 1, a: {}}", "{$set: {\"a.0\": 1}}", "{_id: 1, a: {\"0\": 1}}"),
        .fails("{_id: 1, a: 5}", "{$set: {\"a.b\": 1}}", 28),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.b\": 1}}", 28),
        .fails("{_id: 1, a: null}", "{$set: {\"a.b\": 1}}", 28),
        .fails("{_id: 1, a: [5]}", "{$set: {\"a.0.b\": 1}}", 28),
        .ok("{_id: 1, a: 1}", "{$set: {a: {b: 2}}}", "{_id: 1, a: {b: 2}}"),
        .ok("{_id: 1, a: 1, b: 2, c: 3}", "{$set: {b: 20, d: 4, a: 10}}", "{_id: 1, a: 10, b: 20, c: 3, d: 4}"),
        .ok("{_id: 1}", "{$set: {\"b.y\": 1, \"b.x\": 1, a: 1}}", "{_id: 1, a: 1, b: {x: 1, y: 1}}"),
        .ok("{_id: 1, a: {}}", "{$set: {\"a.10\": 1, \"a.9\": 2, \"a.x\": 3}}", "{_id: 1, a: {\"9\": 2, \"10\": 1, x: 3}}"),
        .ok("{_id: 1, a: []}", "{$set: {\"a.10\": 1, \"a.2\": 2}}", "{_id: 1, a: [null, null, 2, null, null, null, null, null, null, null, 1]}"),
        .ok("{_id: 1, a: 1}", "{$set: {_id: 1}}", "{_id: 1, a: 1}"),
        .fails("{_id: 1, a: 1}", "{$set: {_id: 2}}", 66),
        .fails("{_id: 1, a: 1}", "{$set: {_id: 1.0}}", 66),
        .fails("{_id: {x: 1}}", "{$set: {\"_id.x\": 2}}", 66),
        .ok("{_id: 1}", "{$set: {a: [1, {b: 2}]}}", "{_id: 1, a: [1, {b: 2}]}"),
        .ok("{_id: 1, a: [[1, 2]]}", "{$set: {\"a.0.1\": 5}}", "{_id: 1, a: [[1, 5]]}"),
        .ok("{_id: 1, a: 1}", "{$set: {}}", "{_id: 1, a: 1}"),
        .ok("{_id: 1, a: 1}", "{$set: {a: 1.0}}", "{_id: 1, a: 1.0}"),
        .ok("{_id: 1, a: 1, b: 2}", "{$unset: {a: \"\"}}", "{_id: 1, b: 2}"),
        .ok("{_id: 1}", "{$unset: {a: 1}}", "{_id: 1}"),
        .ok("{_id: 1, a: {b: 1, c: 2}}", "{$unset: {\"a.b\": 1}}", "{_id: 1, a: {c: 2}}"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$unset: {\"a.1\": 1}}", "{_id: 1, a: [1, null, 3]}"),
        .ok("{_id: 1, a: 5}", "{$unset: {\"a.b\": 1}}", "{_id: 1, a: 5}"),
        .ok("{_id: 1, a: [1]}", "{$unset: {\"a.5\": 1}}", "{_id: 1, a: [1]}"),
        .ok("{_id: 1, a: [{b: 1}]}", "{$unset: {\"a.b\": 1}}", "{_id: 1, a: [{b: 1}]}"),
        .ok("{_id: 1, a: 1, b: 1}", "{$unset: {a: 1, b: 1}}", "{_id: 1}"),
        .fails("{_id: 1}", "{$unset: {_id: 1}}", 66),
    ]

    static let arithmeticCases: [UpdateCase] = [
        .ok("{_id: 1, a: 1}", "{$inc: {a: 2}}", "{_id: 1, a: 3}"),
        .ok("{_id: 1}", "{$inc: {a: 2}}", "{_id: 1, a: 2}"),
        .ok("{_id: 1, a: 1.5}", "{$inc: {a: 1}}", "{_id: 1, a: 2.5}"),
        .ok("{_id: 1, a: 2147483647}", "{$inc: {a: 1}}", "{_id: 1, a: NumberLong(2147483648)}"),
        .ok("{_id: 1, a: -2147483648}", "{$inc: {a: -1}}", "{_id: 1, a: NumberLong(-2147483649)}"),
        .ok("{_id: 1, a: NumberLong(5)}", "{$inc: {a: 1}}", "{_id: 1, a: NumberLong(6)}"),
        .ok("{_id: 1, a: 5}", "{$inc: {a: NumberLong(1)}}", "{_id: 1, a: NumberLong(6)}"),
        .ok("{_id: 1, a: NumberLong(9223372036854775807)}", "{$inc: {a: 1}}", "{_id: 1, a: 9223372036854775808.0}"),
        .fails("{_id: 1, a: \"x\"}", "{$inc: {a: 1}}", 14),
        .fails("{_id: 1, a: null}", "{$inc: {a: 1}}", 14),
        .fails("{_id: 1}", "{$inc: {a: \"1\"}}", 14),
        .ok("{_id: 1, a: 1}", "{$inc: {a: -1.5}}", "{_id: 1, a: -0.5}"),
        .ok("{_id: 1, a: NumberDecimal(\"1.1\")}", "{$inc: {a: NumberDecimal(\"2.2\")}}", "{_id: 1, a: NumberDecimal(\"3.3\")}"),
        .ok("{_id: 1, a: 1}", "{$inc: {a: NumberDecimal(\"0.5\")}}", "{_id: 1, a: NumberDecimal(\"1.5\")}"),
        .ok("{_id: 1, a: NumberDecimal(\"1\")}", "{$inc: {a: 0.5}}", "{_id: 1, a: NumberDecimal(\"1.500000000000000\")}"),
        .ok("{_id: 1, a: [1, 2]}", "{$inc: {\"a.1\": 10}}", "{_id: 1, a: [1, 12]}"),
        .ok("{_id: 1, a: {b: 1}}", "{$inc: {\"a.c\": 1}}", "{_id: 1, a: {b: 1, c: 1}}"),
        .ok("{_id: 1, a: 3}", "{$mul: {a: 2}}", "{_id: 1, a: 6}"),
        .ok("{_id: 1}", "{$mul: {a: 2}}", "{_id: 1, a: 0}"),
        .ok("{_id: 1}", "{$mul: {a: 2.5}}", "{_id: 1, a: 0.0}"),
        .ok("{_id: 1}", "{$mul: {a: NumberLong(2)}}", "{_id: 1, a: NumberLong(0)}"),
        .ok("{_id: 1, a: 1.5}", "{$mul: {a: 2}}", "{_id: 1, a: 3.0}"),
        .ok("{_id: 1, a: 65536}", "{$mul: {a: 65536}}", "{_id: 1, a: NumberLong(4294967296)}"),
        .ok("{_id: 1, a: NumberDecimal(\"1.5\")}", "{$mul: {a: NumberDecimal(\"2\")}}", "{_id: 1, a: NumberDecimal(\"3.0\")}"),
        .fails("{_id: 1, a: \"x\"}", "{$mul: {a: 2}}", 14),
        .fails("{_id: 1}", "{$mul: {a: true}}", 14),
        .ok("{_id: 1, a: 5}", "{$min: {a: 3}}", "{_id: 1, a: 3}"),
        .ok("{_id: 1, a: 5}", "{$min: {a: 7}}", "{_id: 1, a: 5}"),
        .ok("{_id: 1}", "{$min: {a: 3}}", "{_id: 1, a: 3}"),
        .ok("{_id: 1, a: 5}", "{$max: {a: 7}}", "{_id: 1, a: 7}"),
        .ok("{_id: 1, a: 5}", "{$max: {a: \"x\"}}", "{_id: 1, a: \"x\"}"),
        .ok("{_id: 1, a: 5}", "{$min: {a: null}}", "{_id: 1, a: null}"),
        .ok("{_id: 1, a: 1}", "{$max: {a: 1.0}}", "{_id: 1, a: 1}"),
        .ok("{_id: 1, a: Date(5)}", "{$max: {a: Date(9)}}", "{_id: 1, a: Date(9)}"),
        .ok("{_id: 1, a: {b: 1}}", "{$min: {\"a.b\": 0}}", "{_id: 1, a: {b: 0}}"),
        .ok("{_id: 1, a: 13}", "{$bit: {a: {and: 10}}}", "{_id: 1, a: 8}"),
        .ok("{_id: 1, a: 13}", "{$bit: {a: {or: 2}}}", "{_id: 1, a: 15}"),
        .ok("{_id: 1, a: 13}", "{$bit: {a: {xor: 1}}}", "{_id: 1, a: 12}"),
        .ok("{_id: 1, a: 1}", "{$bit: {a: {and: NumberLong(1)}}}", "{_id: 1, a: NumberLong(1)}"),
        .ok("{_id: 1}", "{$bit: {a: {or: 5}}}", "{_id: 1, a: 5}"),
        .fails("{_id: 1}", "{$bit: {a: {nand: 1}}}", 2),
        .fails("{_id: 1}", "{$bit: {a: {and: 1.5}}}", 2),
        .fails("{_id: 1}", "{$bit: {a: 5}}", 2),
        .fails("{_id: 1, a: 1.5}", "{$bit: {a: {and: 1}}}", 2),
    ]

    static let renameAndDateCases: [UpdateCase] = [
        .ok("{_id: 1, a: 1, b: 2}", "{$rename: {a: \"c\"}}", "{_id: 1, b: 2, c: 1}"),
        .ok("{_id: 1, a: 1, b: 2}", "{$rename: {a: \"b\"}}", "{_id: 1, b: 1}"),
        .ok("{_id: 1, b: 2}", "{$rename: {a: \"c\"}}", "{_id: 1, b: 2}"),
        .ok("{_id: 1, a: {x: 1}}", "{$rename: {\"a.x\": \"b.y\"}}", "{_id: 1, a: {}, b: {y: 1}}"),
        .ok("{_id: 1, a: [1]}", "{$rename: {a: \"b\"}}", "{_id: 1, b: [1]}"),
        .ok("{_id: 1, a: 1, z: 2}", "{$rename: {a: \"z.y\"}}", "{_id: 1, a: 1, z: 2}").expectingError(28),
        .fails("{_id: 1, a: [{x: 1}]}", "{$rename: {\"a.0.x\": \"b\"}}", 2),
        .fails("{_id: 1, a: 1, b: [{x: 1}]}", "{$rename: {a: \"b.0.x\"}}", 2),
        .fails("{_id: 1}", "{$rename: {a: 1}}", 2),
        .fails("{_id: 1}", "{$rename: {a: \"a\"}}", 2),
        .fails("{_id: 1}", "{$rename: {a: \"a.b\"}}", 2),
        .fails("{_id: 1}", "{$rename: {\"a.b\": \"a\"}}", 2),
        .fails("{_id: 1}", "{$rename: {\"a.$\": \"b\"}}", 2),
        .fails("{_id: 1}", "{$rename: {a: \"b.$[]\"}}", 2),
        .fails("{_id: 1}", "{$rename: {a: \"b\"}, $set: {b: 1}}", 40),
        .fails("{_id: 1, a: 2}", "{$rename: {a: \"_id\"}}", 66),
        .ok("{_id: 1, a: 1}", "{$rename: {a: \"_id\"}}", "{_id: 1}"),
        .ok("{_id: 1}", "{$setOnInsert: {a: 1}}", "{_id: 1}"),
        .ok("{_id: 1}", "{$setOnInsert: {a: 1}}", "{_id: 1, a: 1}").inserting(),
        .ok("{_id: 1}", "{$set: {b: 1}, $setOnInsert: {a: 1}}", "{_id: 1, a: 1, b: 1}").inserting(),
        .ok("{_id: 1}", "{$currentDate: {a: true}}", "{_id: 1, a: Date(1700000000123)}"),
        .ok("{_id: 1}", "{$currentDate: {a: {$type: \"date\"}}}", "{_id: 1, a: Date(1700000000123)}"),
        .ok("{_id: 1}", "{$currentDate: {a: {$type: \"timestamp\"}}}", "{_id: 1, a: Timestamp(1700000000, 1)}"),
        .fails("{_id: 1}", "{$currentDate: {a: {$type: \"x\"}}}", 2),
        .fails("{_id: 1}", "{$currentDate: {a: 1}}", 2),
    ]

    static let arrayCases: [UpdateCase] = [
        .ok("{_id: 1, a: [1]}", "{$push: {a: 2}}", "{_id: 1, a: [1, 2]}"),
        .ok("{_id: 1}", "{$push: {a: 1}}", "{_id: 1, a: [1]}"),
        .fails("{_id: 1, a: 1}", "{$push: {a: 2}}", 2),
        .ok("{_id: 1, a: [1]}", "{$push: {a: [2, 3]}}", "{_id: 1, a: [1, [2, 3]]}"),
        .ok("{_id: 1, a: [1]}", "{$push: {a: {b: 1}}}", "{_id: 1, a: [1, {b: 1}]}"),
        .ok("{_id: 1, a: [1]}", "{$push: {a: {$each: [2, 3]}}}", "{_id: 1, a: [1, 2, 3]}"),
        .ok("{_id: 1, a: [1]}", "{$push: {a: {$each: [2, 3], $position: 0}}}", "{_id: 1, a: [2, 3, 1]}"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$push: {a: {$each: [5], $position: -1}}}", "{_id: 1, a: [1, 2, 5, 3]}"),
        .ok("{_id: 1, a: [1, 2]}", "{$push: {a: {$each: [5], $position: 9}}}", "{_id: 1, a: [1, 2, 5]}"),
        .ok("{_id: 1, a: [3, 1]}", "{$push: {a: {$each: [4, 2], $sort: 1}}}", "{_id: 1, a: [1, 2, 3, 4]}"),
        .ok("{_id: 1, a: [3, 1]}", "{$push: {a: {$each: [4], $sort: -1, $slice: 2}}}", "{_id: 1, a: [4, 3]}"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$push: {a: {$each: [], $slice: -2}}}", "{_id: 1, a: [2, 3]}"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$push: {a: {$each: [4], $slice: 0}}}", "{_id: 1, a: []}"),
        .ok("{_id: 1, a: [{s: 3}, {s: 1}]}", "{$push: {a: {$each: [{s: 2}], $sort: {s: 1}}}}", "{_id: 1, a: [{s: 1}, {s: 2}, {s: 3}]}"),
        .ok("{_id: 1, a: [{s: 3, t: 1}, {s: 1}]}", "{$push: {a: {$each: [], $sort: {s: -1}}}}", "{_id: 1, a: [{s: 3, t: 1}, {s: 1}]}"),
        .ok("{_id: 1, a: [\"b\", 1, {x: 1}]}", "{$push: {a: {$each: [null], $sort: 1}}}", "{_id: 1, a: [null, 1, \"b\", {x: 1}]}"),
        .ok("{_id: 1}", "{$push: {a: {$each: [2, 1], $sort: 1}}}", "{_id: 1, a: [1, 2]}"),
        .fails("{_id: 1}", "{$push: {a: {$each: 1}}}", 2),
        .fails("{_id: 1}", "{$push: {a: {$each: [1], $slice: 1.5}}}", 2),
        .fails("{_id: 1}", "{$push: {a: {$each: [1], $foo: 1}}}", 2),
        .fails("{_id: 1}", "{$push: {a: {$each: [1], $sort: 2}}}", 2),
        .fails("{_id: 1}", "{$push: {a: {$each: [1], $sort: {}}}}", 2),
        .fails("{_id: 1}", "{$push: {a: {$each: [1], $position: \"x\"}}}", 2),
        .ok("{_id: 1, a: [1, 2]}", "{$addToSet: {a: 2}}", "{_id: 1, a: [1, 2]}"),
        .ok("{_id: 1, a: [1, 2]}", "{$addToSet: {a: 3}}", "{_id: 1, a: [1, 2, 3]}"),
        .ok("{_id: 1, a: [1]}", "{$addToSet: {a: 1.0}}", "{_id: 1, a: [1]}"),
        .ok("{_id: 1}", "{$addToSet: {a: 1}}", "{_id: 1, a: [1]}"),
        .ok("{_id: 1, a: [1]}", "{$addToSet: {a: {$each: [1, 2, 2, 3]}}}", "{_id: 1, a: [1, 2, 3]}"),
        .ok("{_id: 1, a: [[1, 2]]}", "{$addToSet: {a: [1, 2]}}", "{_id: 1, a: [[1, 2]]}"),
        .ok("{_id: 1, a: [{b: 1, c: 2}]}", "{$addToSet: {a: {c: 2, b: 1}}}", "{_id: 1, a: [{b: 1, c: 2}, {c: 2, b: 1}]}"),
        .fails("{_id: 1, a: 5}", "{$addToSet: {a: 1}}", 2),
        .fails("{_id: 1}", "{$addToSet: {a: {$each: 1}}}", 14),
        .ok("{_id: 1, a: [1, 2, 3, 2]}", "{$pull: {a: 2}}", "{_id: 1, a: [1, 3]}"),
        .ok("{_id: 1, a: [1, 2, 3, 4]}", "{$pull: {a: {$gte: 3}}}", "{_id: 1, a: [1, 2]}"),
        .ok("{_id: 1, a: [{b: 1, c: 1}, {b: 2}]}", "{$pull: {a: {b: 1}}}", "{_id: 1, a: [{b: 2}]}"),
        .ok("{_id: 1, a: [\"apple\", \"banana\"]}", "{$pull: {a: /^b/}}", "{_id: 1, a: [\"apple\"]}"),
        .ok("{_id: 1, a: [1, 2]}", "{$pull: {a: {$in: [1, 2]}}}", "{_id: 1, a: []}"),
        .ok("{_id: 1}", "{$pull: {a: 1}}", "{_id: 1}"),
        .ok("{_id: 1, a: [1, 1.0, NumberLong(1), 2]}", "{$pull: {a: 1}}", "{_id: 1, a: [2]}"),
        .ok("{_id: 1, a: [[1, 2], [1]]}", "{$pull: {a: [1, 2]}}", "{_id: 1, a: [[1]]}"),
        .ok("{_id: 1, a: [{b: [1, 2]}, {b: [3]}]}", "{$pull: {a: {b: 2}}}", "{_id: 1, a: [{b: [3]}]}"),
        .ok("{_id: 1, a: [{b: 1}, {b: 2}]}", "{$pull: {a: {b: {$gt: 1}}}}", "{_id: 1, a: [{b: 1}]}"),
        .ok("{_id: 1, a: {b: [1, 2]}}", "{$pull: {\"a.b\": 1}}", "{_id: 1, a: {b: [2]}}"),
        .ok("{_id: 1, a: [1, [1], {b: 1}]}", "{$pull: {a: {$type: \"array\"}}}", "{_id: 1, a: [1, {b: 1}]}"),
        .ok("{_id: 1, a: [{b: 1}, 5]}", "{$pull: {a: {}}}", "{_id: 1, a: [5]}"),
        .fails("{_id: 1, a: 5}", "{$pull: {a: 1}}", 2),
        .ok("{_id: 1, a: [1, 2, 3, 1]}", "{$pullAll: {a: [1, 3]}}", "{_id: 1, a: [2]}"),
        .fails("{_id: 1}", "{$pullAll: {a: 1}}", 2),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$pop: {a: 1}}", "{_id: 1, a: [1, 2]}"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$pop: {a: -1}}", "{_id: 1, a: [2, 3]}"),
        .ok("{_id: 1, a: []}", "{$pop: {a: 1}}", "{_id: 1, a: []}"),
        .ok("{_id: 1}", "{$pop: {a: 1}}", "{_id: 1}"),
        .fails("{_id: 1, a: 1}", "{$pop: {a: 1}}", 14),
        .fails("{_id: 1}", "{$pop: {a: 2}}", 9),
        .fails("{_id: 1}", "{$pop: {a: \"x\"}}", 9),
    ]

    static let positionalCases: [UpdateCase] = [
        .ok("{_id: 1, a: [1, 2, 3]}", "{$set: {\"a.$\": 9}}", "{_id: 1, a: [1, 9, 3]}").positional(1),
        .ok("{_id: 1, a: [{b: 1}, {b: 2}]}", "{$inc: {\"a.$.b\": 10}}", "{_id: 1, a: [{b: 1}, {b: 12}]}").positional(1),
        .ok("{_id: 1, a: [{b: [1, 2]}]}", "{$push: {\"a.$.b\": 3}}", "{_id: 1, a: [{b: [1, 2, 3]}]}").positional(0),
        .fails("{_id: 1, a: [1, 2, 3]}", "{$set: {\"a.$\": 9}}", 2),
        .fails("{_id: 1}", "{$set: {\"a.$.b.$\": 1}}", 2),
        .fails("{_id: 1}", "{$set: {\"$\": 1}}", 2),
        .fails("{_id: 1}", "{$set: {\"$[]\": 1}}", 2),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$inc: {\"a.$[]\": 10}}", "{_id: 1, a: [11, 12, 13]}"),
        .ok("{_id: 1, a: [{b: 1}, {b: 2}]}", "{$set: {\"a.$[].c\": 0}}", "{_id: 1, a: [{b: 1, c: 0}, {b: 2, c: 0}]}"),
        .fails("{_id: 1}", "{$set: {\"a.$[]\": 1}}", 2),
        .fails("{_id: 1, a: 5}", "{$set: {\"a.$[]\": 1}}", 2),
        .ok("{_id: 1, a: []}", "{$set: {\"a.$[]\": 1}}", "{_id: 1, a: []}"),
        .ok("{_id: 1, a: [[1, 2], [3]]}", "{$inc: {\"a.$[].$[]\": 1}}", "{_id: 1, a: [[2, 3], [4]]}"),
        .ok("{_id: 1, a: [{x: [1, 2]}, {x: [2, 3]}]}", "{$pull: {\"a.$[].x\": 2}}", "{_id: 1, a: [{x: [1]}, {x: [3]}]}"),
        .ok("{_id: 1, a: [1, 5, 10]}", "{$set: {\"a.$[x]\": 0}}", "{_id: 1, a: [1, 0, 0]}").filters("[{x: {$gte: 5}}]"),
        .ok("{_id: 1, a: [{b: 1}, {b: 5}]}", "{$set: {\"a.$[e].c\": true}}", "{_id: 1, a: [{b: 1}, {b: 5, c: true}]}")
            .filters("[{\"e.b\": {$gt: 2}}]"),
        .ok("{_id: 1, a: [{b: [1, 5]}, {b: [6]}]}", "{$inc: {\"a.$[i].b.$[j]\": 100}}", "{_id: 1, a: [{b: [1, 5]}, {b: [106]}]}")
            .filters("[{\"i.b\": 6}, {j: {$gt: 5}}]"),
        .ok("{_id: 1, a: [{b: 1, c: 1}, {b: 1, c: 2}]}", "{$set: {\"a.$[e].d\": 1}}", "{_id: 1, a: [{b: 1, c: 1}, {b: 1, c: 2, d: 1}]}")
            .filters("[{\"e.b\": 1, \"e.c\": 2}]"),
        .ok("{_id: 1, a: [1, 2, 3]}", "{$set: {\"a.$[n]\": 0}}", "{_id: 1, a: [0, 2, 0]}").filters("[{$or: [{n: 1}, {n: 3}]}]"),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[x]\": 0}}", 2),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[x]\": 0}}", 9).filters("[{x: 1}, {y: 1}]"),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[X]\": 0}}", 2).filters("[{X: 1}]"),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[x]\": 0}}", 9).filters("[{x: 1}, {x: 2}]"),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[x]\": 0}}", 9).filters("[{}]"),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[x]\": 0}}", 9).filters("[{x: 1, y: 1}]"),
        .fails("{_id: 1, a: [1, 2]}", "{$set: {\"a.$[]\": 1, \"a.0\": 2}}", 40),
        .fails("{_id: 1, a: [1]}", "{$set: {\"a.$[i]\": 1, \"a.$[j]\": 2}}", 40).filters("[{i: 1}, {j: 1}]"),
        .ok("{_id: 1, a: [2]}", "{$set: {\"a.$[i]\": 1, \"a.$[j]\": 2}}", "{_id: 1, a: [2]}").filters("[{i: 1}, {j: 1}]"),
        .fails("{_id: 1, a: [1, 2]}", "{$set: {\"a.$\": 1, \"a.1\": 2}}", 40).positional(1),
        .ok("{_id: 1, a: [1, 2]}", "{$set: {\"a.$\": 1, \"a.1\": 2}}", "{_id: 1, a: [1, 2]}").positional(0),
    ]

    static let validationCases: [UpdateCase] = [
        .fails("{_id: 1}", "{$set: {a: 1}, $inc: {a: 1}}", 40),
        .fails("{_id: 1}", "{$set: {a: 1, \"a.b\": 1}}", 40),
        .fails("{_id: 1}", "{$set: {\"a.b\": 1}, $unset: {a: 1}}", 40),
        .fails("{_id: 1}", "{$set: {\"a.$[]\": 1}, $inc: {\"a.$[].b\": 1}}", 40),
        .ok("{_id: 1}", "{$set: {\"a.b\": 1, \"a.c\": 1}}", "{_id: 1, a: {b: 1, c: 1}}"),
        .ok("{_id: 1}", "{$set: {ab: 1, \"a.b\": 2}}", "{_id: 1, a: {b: 2}, ab: 1}"),
        .fails("{_id: 1}", "{$foo: {a: 1}}", 9),
        .fails("{_id: 1}", "{$set: 1}", 9),
        .fails("{_id: 1}", "{$set: {\"\": 1}}", 56),
        .fails("{_id: 1}", "{$set: {\"a..b\": 1}}", 56),
        .fails("{_id: 1}", "{$set: {\"a.\": 1}}", 56),
        .fails("{_id: 1}", "{$set: {\"a.$b\": 1}}", 52),
        .fails("{_id: 1}", "{$set: {$a: 1}}", 52),
        .fails("{_id: 1}", "{$set: {a: 1}, b: 2}", 9),
        .fails("{_id: 1}", "{a: 1, $set: {b: 1}}", 52),
        .ok("{_id: 1, a: 1}", "{b: 2}", "{_id: 1, b: 2}"),
        .ok("{_id: 1, a: 1}", "{b: 2, _id: 1}", "{_id: 1, b: 2}"),
        .fails("{_id: 1}", "{_id: 2}", 66),
        .ok("{}", "{_id: 5, x: 1}", "{_id: 5, x: 1}").inserting(),
        .ok("{_id: 1, a: 1}", "{}", "{_id: 1}"),
        .ok("{a: 1}", "{b: 1}", "{b: 1}"),
        .fails("{_id: 1}", "{a: 1}", 9).filters("[{x: 1}]"),
        .fails("{}", "{$set: {_id: [1]}}", 53).inserting(),
        .ok("{a: 1}", "{$set: {_id: 7}}", "{_id: 7, a: 1}").inserting(),
    ]

    static let pipelineCases: [UpdateCase] = [
        .ok("{_id: 1, a: 1}", "[{$set: {b: {$add: [\"$a\", 1]}}}]", "{_id: 1, a: 1, b: 2}"),
        .ok("{_id: 1, a: 1, b: 2}", "[{$set: {a: \"$$REMOVE\"}}]", "{_id: 1, b: 2}"),
        .ok("{_id: 1, a: 1, b: {c: 1, d: 2}}", "[{$unset: [\"a\", \"b.c\"]}]", "{_id: 1, b: {d: 2}}"),
        .ok("{_id: 1, a: 1}", "[{$unset: \"a\"}]", "{_id: 1}"),
        .ok("{_id: 1, x: {z: 0}}", "[{$set: {\"x.y\": 1}}]", "{_id: 1, x: {z: 0, y: 1}}"),
        .ok("{_id: 1, x: {z: 0}}", "[{$addFields: {x: {y: 1}}}]", "{_id: 1, x: {z: 0, y: 1}}"),
        .ok("{_id: 1, x: 5}", "[{$set: {x: {y: 1}}}]", "{_id: 1, x: {y: 1}}"),
        .ok("{_id: 1, a: [1, {c: 1}]}", "[{$set: {\"a.b\": 5}}]", "{_id: 1, a: [{b: 5}, {c: 1, b: 5}]}"),
        .ok("{_id: 1, a: 1, b: 2}", "[{$project: {a: 1}}]", "{_id: 1, a: 1}"),
        .ok("{_id: 1, a: 1, b: 2}", "[{$project: {_id: 0, a: 1}}]", "{_id: 1, a: 1}"),
        .ok("{_id: 1, a: 5}", "[{$replaceWith: {x: \"$a\"}}]", "{_id: 1, x: 5}"),
        .ok("{_id: 1, sub: {_id: 1, k: 2}}", "[{$replaceRoot: {newRoot: \"$sub\"}}]", "{_id: 1, k: 2}"),
        .ok("{_id: 1}", "[{$set: {a: 1}}, {$set: {b: \"$a\"}}]", "{_id: 1, a: 1, b: 1}"),
        .ok("{_id: 1, a: 1}", "[{$set: {b: \"$a\", a: 10}}]", "{_id: 1, a: 10, b: 1}"),
        .ok("{_id: 1}", "[{$set: {t: \"$$NOW\"}}]", "{_id: 1, t: Date(1700000000123)}"),
        .ok("{_id: 1, a: [3, 1, 2]}", "[{$set: {n: {$size: \"$a\"}, big: {$gt: [{$max: \"$a\"}, 2]}}}]", "{_id: 1, a: [3, 1, 2], n: 3, big: true}"),
        .fails("{_id: 1}", "[{$replaceWith: {_id: 2}}]", 66),
        .fails("{_id: 1, a: 5}", "[{$replaceWith: \"$a\"}]", 2),
        .fails("{_id: 1}", "[{$group: {_id: null}}]", 9),
        .fails("{_id: 1}", "[{$set: {a: 1}, $unset: \"b\"}]", 9),
        .fails("{_id: 1}", "[{$set: 1}]", 9),
        .fails("{_id: 1}", "[{$set: {a: {$divide: [1, 0]}}}]", 2),
        .fails("{_id: 1, a: [1]}", "[{$set: {a: 1}}]", 9).filters("[{x: 1}]"),
        .fails("{_id: 1}", "5", 9),
        .ok("{x: 1}", "[{$set: {_id: 9}}]", "{_id: 9, x: 1}").inserting(),
    ]

    static let allCases =
        setAndUnsetCases + arithmeticCases + renameAndDateCases + arrayCases + positionalCases + validationCases + pipelineCases

    @Test(arguments: allCases)
    func updateGivesMongoDBsResult(_ testCase: UpdateCase) {
        let document = QueryFixtures.doc(testCase.document)
        var result: Document?
        let code = QueryFixtures.errorCode {
            let update = try Update(specValue: QueryFixtures.value(testCase.update), arrayFilters: QueryFixtures.docs(testCase.arrayFilters))
            result = try update.apply(
                to: document, isInsert: testCase.isInsert, positionalIndex: testCase.positionalIndex, now: UpdateTests.now)
        }
        switch testCase.expected {
        case .document(let text):
            #expect(code == nil)
            let expected = QueryFixtures.doc(text)
            #expect(result == expected, "got \(result.map { $0.debugDescription } ?? "nil"), expected \(expected.debugDescription)")
        case .error(let expectedCode):
            #expect(code == expectedCode, "got \(result.map { "\($0)" } ?? "error \(code.map(String.init) ?? "none")")")
        }
    }

    @Test func replacementIsRecognisedByItsFirstField() throws {
        #expect(try Update(QueryFixtures.doc("{a: 1}")).isReplacement)
        #expect(try Update(QueryFixtures.doc("{}")).isReplacement)
        #expect(try !Update(QueryFixtures.doc("{$set: {a: 1}}")).isReplacement)
    }

    @Test func conflictMessageNamesBothPaths() {
        do {
            _ = try Update(QueryFixtures.doc("{$set: {a: 1, \"a.b\": 1}}"))
            Issue.record("no error")
        } catch let error as OsmanthusError {
            #expect(error.code == .conflictingUpdateOperators)
            #expect(error.message == "Updating the path 'a.b' would create a conflict at 'a'")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    struct SeedCase: Sendable, CustomTestStringConvertible {
        let filter: String
        let seed: String
        var testDescription: String { filter }
    }

    static let seedCases: [SeedCase] = [
        SeedCase(filter: "{a: 1, b: {$gt: 1}}", seed: "{a: 1}"),
        SeedCase(filter: "{\"x.y\": 2, _id: 5, a: {$eq: 3}}", seed: "{_id: 5, a: 3, x: {y: 2}}"),
        SeedCase(filter: "{$and: [{b: 1}, {a: 2}]}", seed: "{a: 2, b: 1}"),
        SeedCase(filter: "{$or: [{a: 1}]}", seed: "{a: 1}"),
        SeedCase(filter: "{$or: [{a: 1}, {b: 2}]}", seed: "{}"),
        SeedCase(filter: "{a: {$in: [7]}}", seed: "{a: 7}"),
        SeedCase(filter: "{a: {$in: [7, 8]}}", seed: "{}"),
        SeedCase(filter: "{\"a.b\": 1, \"a.c\": 2}", seed: "{a: {b: 1, c: 2}}"),
        SeedCase(filter: "{\"a.0\": 1}", seed: "{a: {\"0\": 1}}"),
        SeedCase(filter: "{a: {b: 1}}", seed: "{a: {b: 1}}"),
        SeedCase(filter: "{a: /x/}", seed: "{}"),
        SeedCase(filter: "{a: 1, \"a.b\": 2}", seed: "{a: 1}"),
    ]

    @Test(arguments: seedCases)
    func upsertSeedTakesTheFiltersEqualities(_ testCase: SeedCase) throws {
        let seed = Update.upsertSeed(from: try Filter(QueryFixtures.doc(testCase.filter)))
        #expect(seed == QueryFixtures.doc(testCase.seed), "got \(seed)")
    }

    @Test func checkedSeedRejectsPathsMatchedTwice() throws {
        #expect(QueryFixtures.errorCode { try Update.upsertSeedChecked(from: Filter(QueryFixtures.doc("{a: 1, \"a.b\": 2}"))) } == 54)
        #expect(
            QueryFixtures.errorCode { try Update.upsertSeedChecked(from: Filter(QueryFixtures.doc("{$and: [{a: 1}, {a: 2}]}"))) } == 54)
        #expect(try Update.upsertSeedChecked(from: Filter(QueryFixtures.doc("{a: 1}"))) == QueryFixtures.doc("{a: 1}"))
    }

    @Test func upsertAppliesTheUpdateToTheSeed() throws {
        let filter = try Filter(QueryFixtures.doc("{_id: 4, b: {$gt: 1}, c: 2}"))
        let update = try Update(QueryFixtures.doc("{$inc: {x: 1}, $setOnInsert: {d: 1}, $set: {c: 3}}"))
        let result = try update.apply(to: Update.upsertSeed(from: filter), isInsert: true, now: 0)
        #expect(result == QueryFixtures.doc("{_id: 4, c: 3, d: 1, x: 1}"))
    }

    @Test func upsertDocumentHandlesOperatorAndReplacementUpdates() throws {
        let filter = try Filter(QueryFixtures.doc("{_id: 4, a: 1}"))
        #expect(try Update(QueryFixtures.doc("{$set: {b: 2}}")).upsertDocument(filter: filter, now: 0) == QueryFixtures.doc("{_id: 4, a: 1, b: 2}"))
        #expect(try Update(QueryFixtures.doc("{b: 2}")).upsertDocument(filter: filter, now: 0) == QueryFixtures.doc("{_id: 4, b: 2}"))
        let noId = try Filter(QueryFixtures.doc("{a: {$gt: 1}}"))
        #expect(try Update(QueryFixtures.doc("{b: 2}")).upsertDocument(filter: noId, now: 0) == QueryFixtures.doc("{b: 2}"))
        let twice = try Filter(QueryFixtures.doc("{a: 1, \"a.b\": 1}"))
        #expect(QueryFixtures.errorCode { try Update(QueryFixtures.doc("{$set: {c: 1}}")).upsertDocument(filter: twice, now: 0) } == 54)
    }

    /// A generated sweep: `$inc` of every pair of numeric types, with the result type MongoDB
    /// documents for the pair.
    @Test func incrementPromotesNumericTypes() throws {
        let values: [(String, BSONType)] = [
            ("1", .int32), ("NumberLong(1)", .int64), ("1.5", .double), ("NumberDecimal(\"1\")", .decimal128),
        ]
        func rank(_ type: BSONType) -> Int { [BSONType.int32, .int64, .double, .decimal128].firstIndex(of: type) ?? 0 }
        for (stored, storedType) in values {
            for (amount, amountType) in values {
                let update = try Update(QueryFixtures.doc("{$inc: {a: \(amount)}}"))
                let result = try update.apply(to: QueryFixtures.doc("{_id: 1, a: \(stored)}"), now: 0)
                let expected = rank(storedType) > rank(amountType) ? storedType : amountType
                #expect(result["a"]?.type == expected, "\(stored) + \(amount)")
            }
        }
    }
}

extension UpdateCase {
    /// The same case, expecting an error instead.
    func expectingError(_ code: Int32) -> UpdateCase {
        UpdateCase(document: document, update: update, expected: .error(code), arrayFilters: arrayFilters,
            positionalIndex: positionalIndex, isInsert: isInsert)
    }
}
