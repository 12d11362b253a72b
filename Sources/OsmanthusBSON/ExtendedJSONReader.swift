extension Document {
    /// Parses canonical or relaxed Extended JSON (and the legacy `$regex`/`$options` and
    /// `{"$binary": "...", "$type": "..."}` forms). The text must be one JSON object. Throws
    /// `BSONError` (`.invalidExtendedJSON`, `.invalidDecimal128`, `.limitExceeded`).
    public init(extendedJSON text: String) throws {
        let json = try JSONParser.parse(text)
        guard case .object(let fields) = json else {
            throw BSONError(.invalidExtendedJSON, "Extended JSON text must be an object")
        }
        self = try ExtendedJSONReader.document(fields)
        try checkLimits()
    }
}

extension BSONValue {
    /// Parses one Extended JSON value (`1`, `{"$oid": "..."}`, `[...]`).
    public init(extendedJSON text: String) throws {
        self = try ExtendedJSONReader.value(JSONParser.parse(text))
    }
}

/// Turns parsed JSON into BSON following the Extended JSON parser rules: an object (other than
/// the top level) with a type wrapper key must be exactly that wrapper, with values of the
/// right JSON types; `$`-keys that are not wrappers (`$ref`, `$regex` with an object value,
/// `$type`, ...) are left as ordinary fields.
enum ExtendedJSONReader {
    static let wrapperKeys: Set<String> = [
        "$oid", "$symbol", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal", "$binary", "$code",
        "$scope", "$timestamp", "$regularExpression", "$dbPointer", "$date", "$minKey", "$maxKey",
        "$undefined",
        "$uuid",
    ]

    static func fail(_ message: String) -> BSONError {
        BSONError(.invalidExtendedJSON, message)
    }

    static func checkKey(_ key: String) throws {
        guard !key.utf8.contains(0) else { throw fail("key \"\(key)\" contains a NUL byte") }
    }

    static func document(_ fields: [JSONField]) throws -> Document {
        var document = Document()
        for field in fields {
            try checkKey(field.key)
            document.append(field.key, try value(field.value))
        }
        return document
    }

    static func value(_ json: JSONValue) throws -> BSONValue {
        switch json {
        case .object(let fields):
            if let wrapped = try wrapper(fields) { return wrapped }
            return .document(try document(fields))
        case .array(let elements): return .array(try elements.map(value))
        case .string(let text): return .string(text)
        case .number(let text): return try number(text)
        case .bool(let flag): return .bool(flag)
        case .null: return .null
        }
    }

    /// A relaxed JSON number: integers as the smallest of int32/int64 that holds them (else
    /// double); anything with a fraction or exponent as double.
    static func number(_ text: String) throws -> BSONValue {
        if JSONValue.isInteger(text) {
            if let v = Int32(text) { return .int32(v) }
            if let v = Int64(text) { return .int64(v) }
        }
        guard let v = Double(text) else { throw fail("bad number \(text)") }
        return .double(v)
    }

    /// The BSON value of a type wrapper, nil if `fields` is an ordinary document.
    static func wrapper(_ fields: [JSONField]) throws -> BSONValue? {
        let keys = fields.map(\.key)
        guard let special = keys.first(where: { wrapperKeys.contains($0) }) else {
            return try legacyRegex(fields)
        }
        func only(_ allowed: Set<String>) throws {
            guard Set(keys) == allowed, keys.count == allowed.count else {
                throw fail("\(special) must have exactly the keys \(allowed.sorted())")
            }
        }
        func field(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }
        func string(_ key: String) throws -> String {
            guard case .string(let text)? = field(key) else { throw fail("\(key) must be a string") }
            return text
        }

        switch special {
        case "$code", "$scope":
            let code = try string("$code")
            if keys.count == 1 { return .javascript(code) }
            try only(["$code", "$scope"])
            guard case .object(let scope)? = field("$scope") else { throw fail("$scope must be an object") }
            return .javascriptWithScope(code: code, scope: try document(scope))
        case "$binary":
            return try binary(fields, keys: keys)
        case "$dbPointer":
            try only(["$dbPointer"])
            guard case .object(let inner)? = field("$dbPointer"), Set(inner.map(\.key)) == ["$ref", "$id"],
                inner.count == 2
            else { throw fail("$dbPointer must be {\"$ref\": string, \"$id\": ObjectId}") }
            guard case .string(let namespace)? = inner.first(where: { $0.key == "$ref" })?.value,
                let id = inner.first(where: { $0.key == "$id" })?.value,
                case .objectId(let oid) = try value(id)
            else { throw fail("$dbPointer must be {\"$ref\": string, \"$id\": ObjectId}") }
            return .dbPointer(namespace: namespace, id: oid)
        default:
            try only([special])
            return try single(special, fields[0].value)
        }
    }

    /// The one-key wrappers.
    private static func single(_ key: String, _ json: JSONValue) throws -> BSONValue {
        func text() throws -> String {
            guard case .string(let text) = json else { throw fail("\(key) must be a string") }
            return text
        }
        switch key {
        case "$oid":
            guard let id = ObjectId(hex: try text()) else { throw fail("$oid must be 24 hex digits") }
            return .objectId(id)
        case "$symbol": return .symbol(try text())
        case "$numberInt":
            let t = try text()
            guard isPlainInteger(t), let v = Int32(t) else { throw fail("bad $numberInt \"\(t)\"") }
            return .int32(v)
        case "$numberLong":
            let t = try text()
            guard isPlainInteger(t), let v = Int64(t) else { throw fail("bad $numberLong \"\(t)\"") }
            return .int64(v)
        case "$numberDouble": return .double(try double(try text()))
        case "$numberDecimal": return .decimal128(try Decimal128(try text()))
        case "$uuid":
            guard let binary = BSONBinary(uuidString: try text()), try text().utf8.count == 36 else {
                throw fail("$uuid must be a UUID string 8-4-4-4-12")
            }
            return .binary(binary)
        case "$timestamp":
            guard case .object(let inner) = json, Set(inner.map(\.key)) == ["t", "i"], inner.count == 2,
                case .number(let t)? = inner.first(where: { $0.key == "t" })?.value,
                case .number(let i)? = inner.first(where: { $0.key == "i" })?.value,
                JSONValue.isInteger(t), JSONValue.isInteger(i), let seconds = UInt32(t),
                let increment = UInt32(i)
            else { throw fail("$timestamp must be {\"t\": uint32, \"i\": uint32}") }
            return .timestamp(increment: increment, seconds: seconds)
        case "$regularExpression":
            guard case .object(let inner) = json, Set(inner.map(\.key)) == ["pattern", "options"],
                inner.count == 2,
                case .string(let pattern)? = inner.first(where: { $0.key == "pattern" })?.value,
                case .string(let options)? = inner.first(where: { $0.key == "options" })?.value
            else { throw fail("$regularExpression must be {\"pattern\": string, \"options\": string}") }
            return try regex(pattern, options)
        case "$date":
            switch json {
            case .string(let iso):
                guard let ms = DateTimeText.parse(iso) else { throw fail("bad $date \"\(iso)\"") }
                return .datetime(ms)
            case .object(let inner):
                guard inner.count == 1, inner[0].key == "$numberLong", case .int64(let ms) = try value(json)
                else {
                    throw fail("$date must be an ISO-8601 string or {\"$numberLong\": string}")
                }
                return .datetime(ms)
            default:
                throw fail("$date must be an ISO-8601 string or {\"$numberLong\": string}")
            }
        case "$minKey", "$maxKey":
            guard case .number("1") = json else { throw fail("\(key) must be 1") }
            return key == "$minKey" ? .minKey : .maxKey
        case "$undefined":
            guard case .bool(true) = json else { throw fail("$undefined must be true") }
            return .undefined
        default:
            throw fail("unknown type wrapper \(key)")
        }
    }

    /// `{"$binary": {"base64": ..., "subType": ...}}`, or the legacy
    /// `{"$binary": "...", "$type": "..."}`.
    private static func binary(_ fields: [JSONField], keys: [String]) throws -> BSONValue {
        let base64: String
        let subtypeText: String
        if keys.count == 1, case .object(let inner) = fields[0].value {
            guard Set(inner.map(\.key)) == ["base64", "subType"], inner.count == 2,
                case .string(let data)? = inner.first(where: { $0.key == "base64" })?.value,
                case .string(let subtype)? = inner.first(where: { $0.key == "subType" })?.value
            else { throw fail("$binary must be {\"base64\": string, \"subType\": hex string}") }
            base64 = data
            subtypeText = subtype
        } else if Set(keys) == ["$binary", "$type"], keys.count == 2,
            case .string(let data)? = fields.first(where: { $0.key == "$binary" })?.value,
            case .string(let subtype)? = fields.first(where: { $0.key == "$type" })?.value
        {
            base64 = data
            subtypeText = subtype
        } else {
            throw fail("bad $binary")
        }
        let subtypeDigits = Array(subtypeText.utf8)
        guard (1...2).contains(subtypeDigits.count),
            let subtype = Hex.decode(
                subtypeDigits.count == 1 ? [UInt8(ascii: "0")] + subtypeDigits : subtypeDigits)?.first
        else { throw fail("$binary subType must be one or two hex digits") }
        guard let data = Base64.decode(base64) else { throw fail("$binary base64 is malformed") }
        return .binary(BSONBinary(subtype: .init(subtype), data: data))
    }

    /// Legacy `{"$regex": string, "$options": string}`; a `$regex` whose value is not a
    /// string is the query operator and stays an ordinary field.
    private static func legacyRegex(_ fields: [JSONField]) throws -> BSONValue? {
        guard let first = fields.first(where: { $0.key == "$regex" }), case .string(let pattern) = first.value
        else {
            return nil
        }
        let keys = fields.map(\.key)
        if keys == ["$regex"] { return try regex(pattern, "") }
        guard Set(keys) == ["$regex", "$options"], keys.count == 2,
            case .string(let options)? = fields.first(where: { $0.key == "$options" })?.value
        else { return nil }
        return try regex(pattern, options)
    }

    private static func regex(_ pattern: String, _ options: String) throws -> BSONValue {
        guard !pattern.utf8.contains(0), !options.utf8.contains(0) else {
            throw fail("regular expression pattern and options cannot contain NUL")
        }
        return .regex(pattern: pattern, options: BSONWriter.sortedOptions(options))
    }

    /// `-?[0-9]+`, the only integer text `$numberInt`/`$numberLong` accept.
    private static func isPlainInteger(_ text: String) -> Bool {
        let utf8 = text.utf8
        let digits = utf8.first == UInt8(ascii: "-") ? utf8.dropFirst() : utf8[...]
        return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `$numberDouble` text: a decimal number, or Infinity / -Infinity / NaN.
    private static func double(_ text: String) throws -> Double {
        switch text {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case "NaN": return .nan
        default:
            // Decimal syntax only (Double.init would also take hex floats and "inf").
            var sawDigit = false
            for (i, c) in text.utf8.enumerated() {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): break
                case UInt8(ascii: "-"), UInt8(ascii: "+"):
                    if i != 0 {
                        let previous = text.utf8[text.utf8.index(text.utf8.startIndex, offsetBy: i - 1)]
                        guard previous | 0x20 == UInt8(ascii: "e") else {
                            throw fail("bad $numberDouble \"\(text)\"")
                        }
                    }
                default: throw fail("bad $numberDouble \"\(text)\"")
                }
            }
            guard sawDigit, let v = Double(text) else { throw fail("bad $numberDouble \"\(text)\"") }
            return v
        }
    }
}
