import Testing

@testable import OsmanthusBSON

struct ExtendedJSONTests {
    @Test func stringsEscapeAndUnescape() throws {
        let text = "quote\" backslash\\ tab\t nl\n nul\u{0} ctl\u{1F} é ☆ 😀"
        let document: Document = ["s": .string(text)]
        let json = document.toExtendedJSON()
        #expect(json.contains(#"\u0000"#) && json.contains(#"\u001f"#) && json.contains(#"\t"#))
        #expect(try Document(extendedJSON: json) == document)
        #expect(try Document(extendedJSON: #"{"s": "\ud83d\ude00 \u00e9 \/"}"#)["s"] == .string("😀 é /"))
    }

    @Test func relaxedDatesCoverYears1970Through9999Only() {
        let early: Document = ["d": .datetime(-1)]
        #expect(early.toExtendedJSON() == #"{"d": {"$date": {"$numberLong": "-1"}}}"#)
        let last: Document = ["d": .datetime(253_402_300_799_999)]
        #expect(last.toExtendedJSON() == #"{"d": {"$date": "9999-12-31T23:59:59.999Z"}}"#)
        let past: Document = ["d": .datetime(253_402_300_800_000)]
        #expect(past.toExtendedJSON() == #"{"d": {"$date": {"$numberLong": "253402300800000"}}}"#)
        let leap: Document = ["d": .datetime(951_782_400_000)]
        #expect(leap.toExtendedJSON() == #"{"d": {"$date": "2000-02-29T00:00:00Z"}}"#)
    }

    @Test func isoDatesParseWithOffsetsAndFractions() throws {
        func parse(_ text: String) throws -> BSONValue? {
            try Document(extendedJSON: #"{"d": {"$date": "\#(text)"}}"#)["d"]
        }
        #expect(try parse("1970-01-01T00:00:00Z") == .datetime(0))
        #expect(try parse("1970-01-01T00:00:00.5Z") == .datetime(500))
        #expect(try parse("1970-01-01T00:00:00.123456Z") == .datetime(123))
        #expect(try parse("1970-01-01T01:00:00+01:00") == .datetime(0))
        #expect(try parse("1969-12-31T23:00:00-0100") == .datetime(0))
        #expect(throws: BSONError.self) { try parse("1970-02-30T00:00:00Z") }
        #expect(throws: BSONError.self) { try parse("1970-01-01 00:00:00Z") }
    }

    @Test func doublesKeepAPointOrExponent() throws {
        let document: Document = ["a": 1.0, "b": 1e16, "c": 1e-7, "d": -0.0, "e": .double(.infinity)]
        let relaxed = document.toExtendedJSON()
        #expect(
            relaxed == #"{"a": 1.0, "b": 1E+16, "c": 1E-07, "d": -0.0, "e": {"$numberDouble": "Infinity"}}"#)
        let back = try Document(extendedJSON: relaxed)
        #expect(back == document, "every double reads back bit for bit")
    }

    @Test func typeWrappersWithWrongShapesAreErrors() {
        for text in [
            #"{"a": {"$oid": "123"}}"#, #"{"a": {"$numberInt": "2147483648"}}"#,
            #"{"a": {"$numberInt": "+1"}}"#,
            #"{"a": {"$numberLong": "1.0"}}"#, #"{"a": {"$numberDouble": "0x1p3"}}"#,
            #"{"a": {"$binary": {"base64": "AA", "subType": "00"}}}"#,
            #"{"a": {"$binary": {"base64": "", "subType": "100"}}}"#,
            #"{"a": {"$timestamp": {"t": -1, "i": 0}}}"#,
            #"{"a": {"$timestamp": {"t": 4294967296, "i": 0}}}"#, #"{"a": {"$undefined": false}}"#,
            #"{"a": {"$scope": {}}}"#,
            #"{"a": {"$uuid": "73ffd26444b34c6990e8e7d1dfc035d4"}}"#,
        ] {
            #expect(throws: BSONError.self, "\(text)") { try Document(extendedJSON: text) }
        }
    }

    @Test func dollarKeysThatAreNotWrappersStayFields() throws {
        let document = try Document(
            extendedJSON: #"{"q": {"$gt": 5, "$lt": {"$numberLong": "9"}}, "r": {"$ref": "c", "$id": 1}}"#)
        #expect(document["q"] == .document(["$gt": 5, "$lt": .int64(9)]))
        #expect(document["r"] == .document(["$ref": "c", "$id": 1]))
    }

    @Test func singleValuesParse() throws {
        #expect(try BSONValue(extendedJSON: "42") == .int32(42))
        #expect(try BSONValue(extendedJSON: #"{"$numberLong": "42"}"#) == .int64(42))
        #expect(try BSONValue(extendedJSON: #"[1, "a", null]"#) == [1, "a", nil])
        #expect(BSONValue.int64(5).description == "5")
    }
}
