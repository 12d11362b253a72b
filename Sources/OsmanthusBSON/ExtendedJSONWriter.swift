/// The two Extended JSON formats (mongodb/specifications, extended-json).
public enum ExtendedJSONMode: Sendable {
    /// Every type in a type wrapper: `{"$numberInt": "1"}`, `{"$date": {"$numberLong": "0"}}`.
    case canonical
    /// Plain JSON numbers for int32, int64 and finite doubles; ISO-8601 dates for years
    /// 1970–9999; everything else as canonical.
    case relaxed
}

extension Document {
    /// The document as Extended JSON, fields in stored order (`{"a": 1, "b": "x"}`).
    public func toExtendedJSON(mode: ExtendedJSONMode = .relaxed) -> String {
        var writer = ExtendedJSONWriter(mode: mode)
        writer.writeDocument(self)
        return writer.text
    }
}

/// Writes Extended JSON text from BSON values.
struct ExtendedJSONWriter {
    let mode: ExtendedJSONMode
    private var out = [UInt8]()

    init(mode: ExtendedJSONMode) {
        self.mode = mode
    }

    var text: String { String(decoding: out, as: UTF8.self) }

    static func string(for value: BSONValue, mode: ExtendedJSONMode) -> String {
        var writer = ExtendedJSONWriter(mode: mode)
        writer.writeValue(value)
        return writer.text
    }

    private mutating func raw(_ text: String) {
        out.append(contentsOf: text.utf8)
    }

    mutating func writeString(_ text: String) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20: raw("\\u00" + Hex.encode([byte]))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func writeDocument(_ document: Document) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in document {
            if !first { raw(", ") }
            first = false
            writeString(key)
            raw(": ")
            writeValue(value)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `{"$key": <body>}`
    private mutating func wrapper(_ key: String, _ body: (inout ExtendedJSONWriter) -> Void) {
        raw("{\"\(key)\": ")
        body(&self)
        out.append(UInt8(ascii: "}"))
    }

    private mutating func wrapString(_ key: String, _ value: String) {
        wrapper(key) { $0.writeString(value) }
    }

    mutating func writeValue(_ value: BSONValue) {
        switch value {
        case .double(let v):
            if mode == .relaxed && v.isFinite {
                raw(ExtendedJSONWriter.doubleText(v))
            } else {
                wrapString("$numberDouble", ExtendedJSONWriter.doubleText(v))
            }
        case .string(let v): writeString(v)
        case .document(let v): writeDocument(v)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { raw(", ") }
                writeValue(element)
            }
            out.append(UInt8(ascii: "]"))
        case .binary(let v):
            wrapper("$binary") {
                $0.raw("{\"base64\": ")
                $0.writeString(Base64.encode(v.data))
                $0.raw(", \"subType\": \"\(Hex.encode([v.subtype.rawValue]))\"}")
            }
        case .undefined: raw("{\"$undefined\": true}")
        case .objectId(let v): wrapString("$oid", v.hex)
        case .bool(let v): raw(v ? "true" : "false")
        case .datetime(let v):
            if mode == .relaxed && DateTimeText.relaxedRange.contains(v) {
                wrapString("$date", DateTimeText.format(v))
            } else {
                wrapper("$date") { $0.wrapString("$numberLong", String(v)) }
            }
        case .null: raw("null")
        case .regex(let pattern, let options):
            wrapper("$regularExpression") {
                $0.raw("{\"pattern\": ")
                $0.writeString(pattern)
                $0.raw(", \"options\": ")
                $0.writeString(BSONWriter.sortedOptions(options))
                $0.raw("}")
            }
        case .dbPointer(let namespace, let id):
            wrapper("$dbPointer") {
                $0.raw("{\"$ref\": ")
                $0.writeString(namespace)
                $0.raw(", \"$id\": ")
                $0.wrapString("$oid", id.hex)
                $0.raw("}")
            }
        case .javascript(let v): wrapString("$code", v)
        case .symbol(let v): wrapString("$symbol", v)
        case .javascriptWithScope(let code, let scope):
            raw("{\"$code\": ")
            writeString(code)
            raw(", \"$scope\": ")
            writeDocument(scope)
            raw("}")
        case .int32(let v):
            if mode == .relaxed { raw(String(v)) } else { wrapString("$numberInt", String(v)) }
        case .timestamp(let increment, let seconds):
            raw("{\"$timestamp\": {\"t\": \(seconds), \"i\": \(increment)}}")
        case .int64(let v):
            if mode == .relaxed { raw(String(v)) } else { wrapString("$numberLong", String(v)) }
        case .decimal128(let v): wrapString("$numberDecimal", v.description)
        case .minKey: raw("{\"$minKey\": 1}")
        case .maxKey: raw("{\"$maxKey\": 1}")
        }
    }

    /// The shortest text that reads back as the same double, always with a point or an
    /// exponent ("1.0", "-0.0", "1.5E+300"); "Infinity", "-Infinity", "NaN" for the rest.
    static func doubleText(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        let text = value.description
        guard text.utf8.contains(UInt8(ascii: "e")) else { return text }
        return String(
            decoding: text.utf8.map { $0 == UInt8(ascii: "e") ? UInt8(ascii: "E") : $0 }, as: UTF8.self)
    }
}
