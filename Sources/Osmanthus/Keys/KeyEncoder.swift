import OsmanthusBSON

/// An order-preserving encoding of BSON values (SPEC.md §12.2): for any values a and b,
/// `memcmp(encode(a), encode(b))` has the sign of `BSONValue.compare(a, b)`, so the engine's byte
/// order is MongoDB's value order. Used for primary keys and index keys; never decoded.
///
/// Numbers of every type share one rank and compare by exact value: an order-preserving double
/// (the value rounded to nearest) followed by the exact signed difference between the value and
/// that double, which only int64s beyond 2^53 need. A Decimal128 that is an integer in Int64's
/// range is encoded as that integer (exact); other decimals are placed by their nearest double
/// (exact ordering between values closer than a double's precision is not kept).
struct KeyEncoder {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(32) }

    static func encode(_ value: BSONValue) -> [UInt8] {
        var e = KeyEncoder()
        e.append(value)
        return e.bytes
    }

    /// `0x10 ‖ u32be(collection) ‖ encode(value)` (`CatalogEntry.documentPrefix` then the value)
    /// in one allocation: every point read and write by `_id` builds one.
    static func encode(_ value: BSONValue, afterDocumentPrefixOf collection: UInt32) -> [UInt8] {
        var e = KeyEncoder()  // its reserve holds the prefix and a typical value
        e.bytes.append(KeyFormat.Space.documents.rawValue)
        e.bytes.append(UInt8(collection >> 24))
        e.bytes.append(UInt8(truncatingIfNeeded: collection >> 16))
        e.bytes.append(UInt8(truncatingIfNeeded: collection >> 8))
        e.bytes.append(UInt8(truncatingIfNeeded: collection))
        e.append(value)
        return e.bytes
    }

    mutating func appendRaw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// Starts with an index's entry prefix (`IndexFormat.entryPrefix`), room reserved for the
    /// values after it: an index bound built in one buffer.
    init(entryPrefixOf collectionId: UInt32, indexId: UInt32) {
        bytes.reserveCapacity(48)
        bytes.append(IndexFormat.entrySpace)
        appendUInt32(collectionId)  // big-endian
        appendUInt32(indexId)
    }

    /// `append` for a descending index field: the value's encoding complemented in place
    /// (`IndexFormat.complement`).
    mutating func appendComplemented(_ value: BSONValue) {
        let start = bytes.count
        append(value)
        for i in start..<bytes.count { bytes[i] = ~bytes[i] }
    }

    mutating func append(_ value: BSONValue) {
        switch value {
        case .minKey: bytes.append(KeyFormat.Rank.minKey.rawValue)
        case .maxKey: bytes.append(KeyFormat.Rank.maxKey.rawValue)
        case .undefined: bytes.append(KeyFormat.Rank.undefined.rawValue)
        case .null: bytes.append(KeyFormat.Rank.null.rawValue)
        case .int32(let v): appendInteger(Int64(v))
        case .int64(let v): appendInteger(v)
        case .double(let v): appendDouble(v)
        case .decimal128(let v):
            if let integer = v.exactInt64 { appendInteger(integer) } else { appendDouble(v.doubleValue) }
        case .string(let s), .symbol(let s):
            bytes.append(KeyFormat.Rank.string.rawValue)
            appendEscaped(s)
        case .document(let d):
            bytes.append(KeyFormat.Rank.document.rawValue)
            appendFields(d)
        case .array(let items):
            bytes.append(KeyFormat.Rank.array.rawValue)
            for item in items { append(item) }
            bytes.append(KeyFormat.Rank.end.rawValue)
        case .binary(let b):
            bytes.append(KeyFormat.Rank.binary.rawValue)
            appendUInt32(UInt32(b.data.count))
            bytes.append(b.subtype.rawValue)
            bytes.append(contentsOf: b.data)
        case .objectId(let id):
            bytes.append(KeyFormat.Rank.objectId.rawValue)
            bytes.append(contentsOf: id.bytes)
        case .bool(let b):
            bytes.append(KeyFormat.Rank.bool.rawValue)
            bytes.append(b ? 1 : 0)
        case .datetime(let ms):
            bytes.append(KeyFormat.Rank.datetime.rawValue)
            appendUInt64(UInt64(bitPattern: ms) ^ (1 << 63))
        case .timestamp(let increment, let seconds):
            bytes.append(KeyFormat.Rank.timestamp.rawValue)
            appendUInt32(seconds)
            appendUInt32(increment)
        case .regex(let pattern, let options):
            bytes.append(KeyFormat.Rank.regex.rawValue)
            appendEscaped(pattern)
            appendEscaped(options)
        case .dbPointer(let ns, let id):
            bytes.append(KeyFormat.Rank.dbPointer.rawValue)
            appendEscaped(ns)
            bytes.append(contentsOf: id.bytes)
        case .javascript(let code):
            bytes.append(KeyFormat.Rank.javascript.rawValue)
            appendEscaped(code)
        case .javascriptWithScope(let code, let scope):
            bytes.append(KeyFormat.Rank.javascriptWithScope.rawValue)
            appendEscaped(code)
            appendFields(scope)
        }
    }

    /// Documents compare element by element: type rank, then field name, then value.
    private mutating func appendFields(_ d: Document) {
        for (key, value) in d {
            bytes.append(Self.rank(of: value).rawValue)
            appendEscaped(key)
            append(value)
        }
        bytes.append(KeyFormat.Rank.end.rawValue)
    }

    static func rank(of value: BSONValue) -> KeyFormat.Rank {
        switch value {
        case .minKey: .minKey
        case .maxKey: .maxKey
        case .undefined: .undefined
        case .null: .null
        case .int32, .int64, .double, .decimal128: .number
        case .string, .symbol: .string
        case .document: .document
        case .array: .array
        case .binary: .binary
        case .objectId: .objectId
        case .bool: .bool
        case .datetime: .datetime
        case .timestamp: .timestamp
        case .regex: .regex
        case .dbPointer: .dbPointer
        case .javascript: .javascript
        case .javascriptWithScope: .javascriptWithScope
        }
    }

    /// Bytes with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01: prefix order is kept
    /// ("a" < "a\0" < "ab") and the encoding is self-delimiting.
    mutating func appendEscaped(_ raw: [UInt8]) {
        raw.withUnsafeBufferPointer { appendEscaped($0) }
    }

    mutating func appendEscaped(_ text: String) {
        var text = text
        text.withUTF8 { appendEscaped($0) }
    }

    /// Without a NUL inside (the usual case) the bytes go in as one copy.
    mutating func appendEscaped(_ raw: UnsafeBufferPointer<UInt8>) {
        if !raw.contains(0) {
            bytes.append(contentsOf: raw)
        } else {
            for b in raw {
                bytes.append(b)
                if b == 0 { bytes.append(0xFF) }
            }
        }
        bytes.append(0)
        bytes.append(1)
    }

    private mutating func appendInteger(_ v: Int64) {
        let d = Double(v)
        appendNumber(d, remainder: Self.remainder(v, d))
    }

    private mutating func appendDouble(_ v: Double) {
        if v.isNaN {
            bytes.append(KeyFormat.Rank.nan.rawValue)
            return
        }
        appendNumber(v == 0 ? 0 : v, remainder: 0)
    }

    /// `v - d` exactly, where d is v rounded to a double (|v - d| ≤ 2^10).
    static func remainder(_ v: Int64, _ d: Double) -> Int64 {
        if d >= 9_223_372_036_854_775_808.0 {  // 2^63: Int64(d) would trap
            return Int64(Int128(v) - (Int128(1) << 63))
        }
        return v &- Int64(d)
    }

    private mutating func appendNumber(_ d: Double, remainder: Int64) {
        bytes.append(KeyFormat.Rank.number.rawValue)
        let bits = d.bitPattern
        // Positive: flip the sign bit; negative: flip every bit. Then unsigned order = numeric.
        appendUInt64(d.sign == .minus ? ~bits : bits ^ (1 << 63))
        appendUInt64(UInt64(bitPattern: remainder) ^ (1 << 63))
    }

    private mutating func appendUInt32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    private mutating func appendUInt64(_ v: UInt64) {
        appendUInt32(UInt32(truncatingIfNeeded: v >> 32))
        appendUInt32(UInt32(truncatingIfNeeded: v))
    }
}
