/// One BSON value, of any of the types bsonspec.org defines (deprecated ones included, so that
/// any stored document can be read).
///
/// `==` and `hash(into:)` mean "the same BSON": same type and same encoded bytes, so `.int32(1)`
/// is not `.double(1)`, `-0.0` is not `0.0`, and a NaN equals the NaN with the same bits. For
/// MongoDB's value semantics (1 == 1.0, ordering across types) use `BSONValue.compare`.
public enum BSONValue: Sendable {
    case double(Double)
    case string(String)
    case document(Document)
    case array([BSONValue])
    case binary(BSONBinary)
    /// Deprecated; read so that old documents decode.
    case undefined
    case objectId(ObjectId)
    case bool(Bool)
    /// Milliseconds since the Unix epoch (UTC).
    case datetime(Int64)
    case null
    /// Options are stored in alphabetical order (the encoder sorts them).
    indirect case regex(pattern: String, options: String)
    /// Deprecated; read so that old documents decode.
    indirect case dbPointer(namespace: String, id: ObjectId)
    case javascript(String)
    /// Deprecated; read so that old documents decode.
    case symbol(String)
    indirect case javascriptWithScope(code: String, scope: Document)
    case int32(Int32)
    /// A replication timestamp; ordered by seconds, then increment.
    case timestamp(increment: UInt32, seconds: UInt32)
    case int64(Int64)
    case decimal128(Decimal128)
    case minKey
    case maxKey

    /// The value's BSON type.
    public var type: BSONType {
        switch self {
        case .double: .double
        case .string: .string
        case .document: .document
        case .array: .array
        case .binary: .binary
        case .undefined: .undefined
        case .objectId: .objectId
        case .bool: .bool
        case .datetime: .datetime
        case .null: .null
        case .regex: .regex
        case .dbPointer: .dbPointer
        case .javascript: .javascript
        case .symbol: .symbol
        case .javascriptWithScope: .javascriptWithScope
        case .int32: .int32
        case .timestamp: .timestamp
        case .int64: .int64
        case .decimal128: .decimal128
        case .minKey: .minKey
        case .maxKey: .maxKey
        }
    }

    public var isNumber: Bool {
        switch self {
        case .double, .int32, .int64, .decimal128: true
        default: false
        }
    }

    public var doubleValue: Double? { if case .double(let v) = self { v } else { nil } }
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var documentValue: Document? { if case .document(let v) = self { v } else { nil } }
    public var arrayValue: [BSONValue]? { if case .array(let v) = self { v } else { nil } }
    public var binaryValue: BSONBinary? { if case .binary(let v) = self { v } else { nil } }
    public var objectIdValue: ObjectId? { if case .objectId(let v) = self { v } else { nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var datetimeValue: Int64? { if case .datetime(let v) = self { v } else { nil } }
    public var int32Value: Int32? { if case .int32(let v) = self { v } else { nil } }
    public var int64Value: Int64? { if case .int64(let v) = self { v } else { nil } }
    public var decimal128Value: Decimal128? { if case .decimal128(let v) = self { v } else { nil } }

    /// Any number as a Double (int64 and decimal128 may round).
    public var numericDouble: Double? {
        switch self {
        case .double(let v): v
        case .int32(let v): Double(v)
        case .int64(let v): Double(v)
        case .decimal128(let v): v.doubleValue
        default: nil
        }
    }

    /// Any number that is exactly an integer in Int64's range, as an Int64.
    public var exactInt64: Int64? {
        switch self {
        case .int32(let v): Int64(v)
        case .int64(let v): v
        case .double(let v): Int64(exactly: v)
        case .decimal128(let v):
            // Through the nearest double, then checked exactly against the decimal.
            Int64(exactly: v.doubleValue).flatMap {
                Decimal128.compareExactly(Decimal128($0), v) == 0 ? $0 : nil
            }
        default: nil
        }
    }
}

extension BSONValue: Hashable {
    /// Byte equality of the UTF-8 (not `String.==`, which is Unicode canonical equivalence),
    /// by memcmp rather than element by element.
    @inline(__always)
    static func utf8Equal(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a
        var b = b
        return a.withUTF8 { x in b.withUTF8 { y in bytesEqual(UnsafeRawBufferPointer(x), UnsafeRawBufferPointer(y)) } }
    }

    public static func == (a: BSONValue, b: BSONValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)): x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): utf8Equal(x, y)
        case (.document(let x), .document(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.binary(let x), .binary(let y)): x == y
        case (.undefined, .undefined), (.null, .null), (.minKey, .minKey), (.maxKey, .maxKey): true
        case (.objectId(let x), .objectId(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.datetime(let x), .datetime(let y)): x == y
        case (.regex(let p1, let o1), .regex(let p2, let o2)):
            p1.utf8.elementsEqual(p2.utf8) && o1.utf8.elementsEqual(o2.utf8)
        case (.dbPointer(let n1, let i1), .dbPointer(let n2, let i2)):
            n1.utf8.elementsEqual(n2.utf8) && i1 == i2
        case (.javascript(let x), .javascript(let y)): utf8Equal(x, y)
        case (.symbol(let x), .symbol(let y)): utf8Equal(x, y)
        case (.javascriptWithScope(let c1, let s1), .javascriptWithScope(let c2, let s2)):
            c1.utf8.elementsEqual(c2.utf8) && s1 == s2
        case (.int32(let x), .int32(let y)): x == y
        case (.timestamp(let i1, let s1), .timestamp(let i2, let s2)): i1 == i2 && s1 == s2
        case (.int64(let x), .int64(let y)): x == y
        case (.decimal128(let x), .decimal128(let y)): x == y
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type.rawValue)
        switch self {
        case .double(let v): hasher.combine(v.bitPattern)
        case .string(let v), .javascript(let v), .symbol(let v):
            hasher.combine(v.utf8.count)
            hasher.combine(v)
        case .document(let v): hasher.combine(v)
        case .array(let v): hasher.combine(v)
        case .binary(let v): hasher.combine(v)
        case .undefined, .null, .minKey, .maxKey: break
        case .objectId(let v): hasher.combine(v)
        case .bool(let v): hasher.combine(v)
        case .datetime(let v): hasher.combine(v)
        case .regex(let p, let o):
            hasher.combine(p)
            hasher.combine(o)
        case .dbPointer(let n, let i):
            hasher.combine(n)
            hasher.combine(i)
        case .javascriptWithScope(let c, let s):
            hasher.combine(c)
            hasher.combine(s)
        case .int32(let v): hasher.combine(v)
        case .timestamp(let i, let s):
            hasher.combine(i)
            hasher.combine(s)
        case .int64(let v): hasher.combine(v)
        case .decimal128(let v): hasher.combine(v)
        }
    }
}

extension BSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal is an int32 when it fits, else an int64.
    public init(integerLiteral value: Int) {
        self = Int32(exactly: value).map { .int32($0) } ?? .int64(Int64(value))
    }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: BSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self = .document(Document(elements))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension BSONValue: CustomStringConvertible {
    /// Relaxed Extended JSON of the value.
    public var description: String { ExtendedJSONWriter.string(for: self, mode: .relaxed) }
}
