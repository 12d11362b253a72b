import Testing

@testable import OsmanthusBSON

struct DocumentTests {
    @Test func emptyDocumentIsFiveBytes() throws {
        let document = Document()
        #expect(document.bytes == [5, 0, 0, 0, 0])
        #expect(document.isEmpty)
        #expect(document.count == 0)
        #expect(try Document(bytes: [5, 0, 0, 0, 0]) == document)
    }

    @Test func appendKeepsOrderAndEncodesCanonically() throws {
        var document = Document()
        document.append("a", .int32(1))
        document.append("b", .string("x"))
        document.append("c", .array([.bool(true), .null]))
        #expect(document.keys == ["a", "b", "c"])
        #expect(document.values == [.int32(1), .string("x"), .array([.bool(true), .null])])
        #expect(document.count == 3)
        // {a: 1, b: "x", c: [true, null]}
        let expected: [UInt8] =
            [0x24, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0x02, 0x62, 0, 2, 0, 0, 0, 0x78, 0]
            + [0x04, 0x63, 0, 0x0C, 0, 0, 0, 0x08, 0x30, 0, 1, 0x0A, 0x31, 0, 0, 0]
        #expect(document.bytes == expected)
        #expect(try Document(bytes: expected) == document)
    }

    @Test func subscriptReadsSetsAndRemoves() throws {
        var document: Document = ["name": "ada", "age": 36, "tags": ["x", "y"]]
        #expect(document["name"] == .string("ada"))
        #expect(document["age"] == .int32(36))
        #expect(document["missing"] == nil)
        document["age"] = .int64(37)
        #expect(document["age"] == .int64(37))
        #expect(document.keys == ["name", "age", "tags"], "set replaces in place")
        document["new"] = .double(1.5)
        #expect(document.keys == ["name", "age", "tags", "new"], "set of a new key appends")
        document["name"] = nil
        #expect(document.keys == ["age", "tags", "new"])
        #expect(document.remove("nope") == nil)
        #expect(document.remove("tags") == .array(["x", "y"]))
        #expect(document.keys == ["age", "new"])
        #expect(try Document(bytes: document.bytes) == document, "edited bytes stay valid")
    }

    @Test func setWithLongerAndShorterValuesKeepsLengthsRight() throws {
        var document: Document = ["a": 1, "b": "short", "c": true]
        document.set("b", .string(String(repeating: "long", count: 50)))
        #expect(try Document(bytes: document.bytes)["b"] == .string(String(repeating: "long", count: 50)))
        document.set("b", .null)
        #expect(document.byteCount == document.bytes.count)
        #expect(try Document(bytes: document.bytes) == ["a": 1, "b": nil, "c": true])
    }

    @Test func duplicateKeysArePreservedAndFirstWins() throws {
        // {"a": 1, "a": 2}
        let bytes: [UInt8] = [0x13, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0x10, 0x61, 0, 2, 0, 0, 0, 0]
        var document = try Document(bytes: bytes)
        #expect(document.count == 2)
        #expect(document["a"] == .int32(1))
        #expect(document.bytes == bytes)
        document["a"] = .int32(9)
        #expect(document.values == [.int32(9), .int32(2)])
        document.remove("a")
        #expect(document.values == [.int32(2)])
    }

    @Test func iterationYieldsPairsInOrder() {
        let document: Document = ["x": 1, "y": "two", "z": ["w": 3.5]]
        var seen = [String]()
        for (key, value) in document {
            seen.append(key)
            if key == "z" { #expect(value.documentValue?["w"] == .double(3.5)) }
        }
        #expect(seen == ["x", "y", "z"])
    }

    @Test func embeddedDocumentIsASliceThatCanBeMutatedSeparately() throws {
        let outer = try Document(bytes: (["inner": ["k": "v"], "after": 1] as Document).bytes)
        var inner = try #require(outer["inner"]?.documentValue)
        #expect(inner["k"] == .string("v"))
        #expect(inner.bytes == (["k": "v"] as Document).bytes)
        inner["k2"] = .int32(2)
        #expect(inner.keys == ["k", "k2"])
        #expect(outer["inner"]?.documentValue?.keys == ["k"], "parent unchanged")
        #expect(outer["after"] == .int32(1))
    }

    @Test func equalityIsByteEqualityAndHashAgrees() {
        let a: Document = ["a": 1, "b": 2]
        let b: Document = ["a": 1, "b": 2]
        let c: Document = ["b": 2, "a": 1]
        let d: Document = ["a": 1.0, "b": 2]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != c, "order matters")
        #expect(a != d, "int32 1 is not double 1.0 as BSON")
        #expect(Set([a, b, c]).count == 2)
    }

    @Test func appendContentsOfConcatenates() {
        var a: Document = ["a": 1]
        a.append(contentsOf: ["b": 2, "c": 3])
        #expect(a == ["a": 1, "b": 2, "c": 3])
    }

    @Test func degenerateArrayKeysAndRegexFlagsAreCanonicalized() throws {
        // {"a": ["ab": 10]} with a wrong array key, and {"r": /abc/mix}
        let array: [UInt8] = [
            0x15, 0, 0, 0, 0x04, 0x61, 0, 0x0D, 0, 0, 0, 0x10, 0x61, 0x62, 0, 0x0A, 0, 0, 0, 0, 0,
        ]
        let document = try Document(bytes: array)
        #expect(document["a"] == .array([.int32(10)]))
        #expect(document.bytes == (["a": [10]] as Document).bytes)
        let regex = try Document(bytes: [
            0x10, 0, 0, 0, 0x0B, 0x61, 0, 0x61, 0x62, 0x63, 0, 0x6D, 0x69, 0x78, 0, 0,
        ])
        #expect(regex["a"] == .regex(pattern: "abc", options: "imx"))
    }

    /// Found by fuzzing: sorting option bytes split a multi-byte character.
    @Test func nonASCIIRegexOptionsStayValidAndStable() throws {
        // {"a": /abc/ "xi\u{FFFD}m"} with unsorted, partly non-ASCII options.
        let bytes: [UInt8] = [
            0x13, 0, 0, 0, 0x0B, 0x61, 0, 0x61, 0x62, 0x63, 0, 0x78, 0x69, 0xEF, 0xBF, 0xBD, 0x6D, 0, 0,
        ]
        let document = try Document(bytes: bytes)
        #expect(document["a"] == .regex(pattern: "abc", options: "imx\u{FFFD}"))
        let again = try Document(bytes: document.bytes)
        #expect(again == document)
        #expect(again.bytes == document.bytes)
    }

    @Test func everyTypeRoundTripsThroughBytes() throws {
        let scope: Document = ["x": 1]
        let document: Document = [
            "double": .double(-0.0), "string": "é☆", "doc": ["k": .null], "array": [1, "2", 3.0],
            "binary": .binary(BSONBinary(subtype: .binaryOld, data: [1, 2, 3])),
            "uuid": .binary(BSONBinary(uuidBytes: Array(0..<16))), "undefined": .undefined,
            "oid": .objectId(ObjectId(seconds: 1, processUnique: 2, counter: 3)), "bool": false,
            "date": .datetime(-1), "null": nil, "regex": .regex(pattern: "^a", options: "xi"),
            "dbPointer": .dbPointer(
                namespace: "db.c", id: ObjectId(seconds: 9, processUnique: 9, counter: 9)),
            "code": .javascript("f()"), "symbol": .symbol("s"),
            "cws": .javascriptWithScope(code: "g()", scope: scope),
            "int32": .int32(.min), "ts": .timestamp(increment: 7, seconds: 8), "int64": .int64(.max),
            "dec": .decimal128(try Decimal128("1.50")), "min": .minKey, "max": .maxKey,
        ]
        let decoded = try Document(bytes: document.bytes)
        #expect(decoded == document)
        #expect(decoded["regex"] == .regex(pattern: "^a", options: "ix"), "options written sorted")
        #expect(
            decoded["binary"]?.binaryValue?.data == [1, 2, 3], "old binary payload without the inner length")
        #expect(decoded.count == 22)
        let json = try Document(extendedJSON: decoded.toExtendedJSON(mode: .canonical))
        #expect(json == decoded, "canonical Extended JSON round-trips every type")
    }

    @Test func extendedJSONRelaxedOutputIsReadable() throws {
        let document: Document = [
            "a": 1, "b": 2.5, "c": .int64(3), "d": .datetime(1_356_351_330_501), "e": "x\"y",
        ]
        #expect(
            document.toExtendedJSON(mode: .relaxed)
                == #"{"a": 1, "b": 2.5, "c": 3, "d": {"$date": "2012-12-24T12:15:30.501Z"}, "e": "x\"y"}"#)
        #expect(
            document.toExtendedJSON(mode: .canonical)
                == #"{"a": {"$numberInt": "1"}, "b": {"$numberDouble": "2.5"}, "c": {"$numberLong": "3"}, "#
                + #""d": {"$date": {"$numberLong": "1356351330501"}}, "e": "x\"y"}"#)
    }

    @Test func extendedJSONParsesLegacyForms() throws {
        let document = try Document(
            extendedJSON:
                #"{"r": {"$regex": "ab", "$options": "mi"}, "b": {"$binary": "AQID", "$type": "80"}, "#
                + #""q": {"$regex": {"$gt": 1}}, "t": {"$type": "string"}, "d": {"$date": "2020-01-01T00:00:00+01:00"}}"#
        )
        #expect(document["r"] == .regex(pattern: "ab", options: "im"))
        #expect(document["b"] == .binary(BSONBinary(subtype: .init(0x80), data: [1, 2, 3])))
        #expect(document["q"] == .document(["$regex": ["$gt": 1]]), "$regex query operator stays a document")
        #expect(document["t"] == .document(["$type": "string"]))
        #expect(document["d"] == .datetime(1_577_833_200_000))
    }

    @Test func extendedJSONNumbersPickTheSmallestIntegerType() throws {
        let document = try Document(
            extendedJSON: #"{"a": 1, "b": 2147483648, "c": 1.0, "d": 1e2, "e": 99999999999999999999}"#)
        #expect(document["a"] == .int32(1))
        #expect(document["b"] == .int64(2_147_483_648))
        #expect(document["c"] == .double(1))
        #expect(document["d"] == .double(100))
        #expect(document["e"] == .double(1e20))
    }

    @Test func malformedJSONIsRejectedWithOffset() {
        for text in [
            #"{"a": }"#, #"{"a": 1,}"#, "[1]", #"{"a": "\ud800"}"#, #"{"a": 01}"#, #"{"a": 1} x"#, "",
        ] {
            #expect(throws: BSONError.self, "\(text)") { try Document(extendedJSON: text) }
        }
        do {
            _ = try Document(extendedJSON: #"{"a": tru}"#)
            Issue.record("parsed")
        } catch let error as BSONError {
            #expect(error.code == .invalidExtendedJSON)
            #expect(error.offset == 6)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func typeOfReportsWithoutDecoding() {
        let document: Document = ["a": "x", "b": .int64(1)]
        #expect(document.type(of: "a") == .string)
        #expect(document.type(of: "b") == .int64)
        #expect(document.type(of: "c") == nil)
        #expect(document.contains("a"))
        #expect(!document.contains("c"))
    }

    /// The BSON corpus prose test: NUL cannot be encoded in keys or regex parts. In code it is a
    /// programmer error (a precondition); parsers of outside input throw instead.
    @Test func nulInAKeyOrRegexIsRefused() async throws {
        await #expect(processExitsWith: .failure) {
            var document = Document()
            document.append("a\u{0}b", .null)
        }
        await #expect(processExitsWith: .failure) {
            var document = Document()
            document.append("r", .regex(pattern: "a\u{0}", options: ""))
        }
        #expect(throws: BSONError.self) { try Document(extendedJSON: #"{"a\u0000": 1}"#) }
        #expect(throws: BSONError.self) { try BSONEncoder().encode(["a\u{0}": 1]) }
    }

    @Test func hasUniqueKeysFindsARepeatAnywhereAmongManyFields() {
        #expect(Document().hasUniqueKeys)
        #expect(Document([("a", 1), ("b", 2), ("ab", 3)]).hasUniqueKeys)
        #expect(!Document([("a", 1), ("b", 2), ("a", 3)]).hasUniqueKeys)
        // Past the 64 keys kept on the stack, against keys before and after that point.
        let names = (0..<100).map { "k\($0)" }
        #expect(Document(names.map { ($0, BSONValue.int32(1)) }).hasUniqueKeys)
        for (first, second) in [(3, 90), (70, 95), (10, 40)] {
            var fields = names.map { ($0, BSONValue.int32(1)) }
            fields[second].0 = names[first]
            #expect(!Document(fields).hasUniqueKeys, "k\(first) again at \(second)")
        }
    }

    @Test func appendFieldCopiesTheFirstFieldOfAnother() throws {
        let source: Document = ["a": 1, "b": ["x": "y"], "a2": 2.5]
        var target: Document = ["z": true]
        let appended = target.appendField("b", from: source)
        let appendedMissing = target.appendField("missing", from: source)
        #expect(appended)
        #expect(!appendedMissing)
        #expect(target == ["z": true, "b": ["x": "y"]])
        #expect(try Document(bytes: target.bytes) == target)
    }
}
