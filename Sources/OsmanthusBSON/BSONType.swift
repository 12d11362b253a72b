/// The BSON element types, by their type byte (SPEC.md §10, bsonspec.org).
///
/// `name` is the alias MongoDB's `$type` query operator uses ("double", "objectId", "long", ...).
public enum BSONType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case double = 0x01
    case string = 0x02
    case document = 0x03
    case array = 0x04
    case binary = 0x05
    case undefined = 0x06
    case objectId = 0x07
    case bool = 0x08
    case datetime = 0x09
    case null = 0x0A
    case regex = 0x0B
    case dbPointer = 0x0C
    case javascript = 0x0D
    case symbol = 0x0E
    case javascriptWithScope = 0x0F
    case int32 = 0x10
    case timestamp = 0x11
    case int64 = 0x12
    case decimal128 = 0x13
    case minKey = 0xFF
    case maxKey = 0x7F

    /// MongoDB's alias for the type, as `$type` accepts it.
    public var name: String {
        switch self {
        case .double: "double"
        case .string: "string"
        case .document: "object"
        case .array: "array"
        case .binary: "binData"
        case .undefined: "undefined"
        case .objectId: "objectId"
        case .bool: "bool"
        case .datetime: "date"
        case .null: "null"
        case .regex: "regex"
        case .dbPointer: "dbPointer"
        case .javascript: "javascript"
        case .symbol: "symbol"
        case .javascriptWithScope: "javascriptWithScope"
        case .int32: "int"
        case .timestamp: "timestamp"
        case .int64: "long"
        case .decimal128: "decimal"
        case .minKey: "minKey"
        case .maxKey: "maxKey"
        }
    }

    /// The type for a `$type` alias, or nil.
    public init?(name: String) {
        guard let type = BSONType.allCases.first(where: { $0.name == name }) else { return nil }
        self = type
    }

    /// The MongoDB `$type` number (the type byte, with MinKey as -1 and MaxKey as 127).
    public var number: Int { self == .minKey ? -1 : Int(rawValue) }

    public var description: String { name }

    /// The rank of the type in MongoDB's sort order (`canonicalizeBSONType` in the server):
    /// values of different ranks compare by rank; numbers share one rank, as do string and symbol.
    public var sortRank: Int {
        switch self {
        case .minKey: -1
        case .undefined: 0
        case .null: 5
        case .double, .int32, .int64, .decimal128: 10
        case .string, .symbol: 15
        case .document: 20
        case .array: 25
        case .binary: 30
        case .objectId: 35
        case .bool: 40
        case .datetime: 45
        case .timestamp: 47
        case .regex: 50
        case .dbPointer: 55
        case .javascript: 60
        case .javascriptWithScope: 65
        case .maxKey: 127
        }
    }
}
