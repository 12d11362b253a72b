/// A parsed JSON text that keeps what Extended JSON needs and ordinary JSON parsers drop:
/// object key order (and duplicate keys), and the exact text of each number (so that `1`,
/// `1.0`, `-0.0` and `1E+2` stay distinct).
enum JSONValue: Equatable {
    case object([JSONField])
    case array([JSONValue])
    case string(String)
    /// The number exactly as written (valid RFC 8259 number syntax).
    case number(String)
    case bool(Bool)
    case null

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let x), .array(let y)): x == y
        case (.string(let x), .string(let y)): x.utf8.elementsEqual(y.utf8)
        case (.number(let x), .number(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    /// Whether a number's text is an integer (no fraction, no exponent).
    static func isInteger(_ text: String) -> Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
}

/// One member of a JSON object.
struct JSONField {
    var key: String
    var value: JSONValue

    init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}
