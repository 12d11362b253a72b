#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encodes `Encodable` values to BSON documents.
///
/// Mapping: Int, Int64, UInt32 → int64 (UInt64 too if it fits); Int32, Int16, Int8, UInt16,
/// UInt8 → int32; Double, Float → double; Bool; String; Date → datetime (milliseconds, rounded
/// down); Data → binary subtype 0; UUID → binary subtype 4; ObjectId, Decimal128, BSONBinary,
/// Document and BSONValue as themselves; arrays → arrays; structs and `[String: T]` →
/// documents; enums with raw values as their raw value. A nil optional is omitted (the
/// synthesized `encodeIfPresent`); an explicit `encodeNil` writes null.
///
/// Throws `EncodingError.invalidValue` for values BSON cannot hold (a top-level non-document,
/// UInt64 over Int64.max) and `BSONError` (`.invalidArgument`, `.limitExceeded`) for keys with
/// NUL bytes and documents over the limits.
public struct BSONEncoder: Sendable {
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    /// Encodes `value`, which must encode as a keyed container (a struct, class or dictionary).
    public func encode<T: Encodable>(_ value: T) throws -> Document {
        guard case .document(let document) = try encodeValue(value) else {
            throw EncodingError.invalidValue(
                value,
                .init(
                    codingPath: [], debugDescription: "the top level of a BSON document must be a keyed value"
                ))
        }
        try document.checkLimits()
        return document
    }

    /// Encodes `value` to a single BSON value (a number, a string, a document, ...).
    public func encodeValue<T: Encodable>(_ value: T) throws -> BSONValue {
        try EncodingNode.box(value, codingPath: [], userInfo: userInfo).resolve()
    }
}

/// What the encoder is building: a value, or a container still being filled. Containers are
/// classes so that nested containers handed out earlier can keep writing into them.
enum EncodingNode {
    case value(BSONValue)
    case keyed(KeyedBox)
    case unkeyed(UnkeyedBox)
    case deferred(BSONEncoderImpl)

    final class KeyedBox {
        var fields: [(String, EncodingNode)] = []
        /// Re-encoding a key replaces its value, as Dictionary-backed encoders do.
        func set(_ key: String, _ node: EncodingNode) {
            if let index = fields.firstIndex(where: { $0.0 == key }) {
                fields[index].1 = node
            } else {
                fields.append((key, node))
            }
        }
    }

    final class UnkeyedBox {
        var elements: [EncodingNode] = []
    }

    func resolve() throws -> BSONValue {
        switch self {
        case .value(let value):
            return value
        case .keyed(let box):
            var document = Document()
            for (key, node) in box.fields {
                guard !key.utf8.contains(0) else {
                    throw BSONError(.invalidArgument, "key \"\(key)\" contains a NUL byte")
                }
                document.append(key, try node.resolve())
            }
            return .document(document)
        case .unkeyed(let box):
            return .array(try box.elements.map { try $0.resolve() })
        case .deferred(let encoder):
            return try (encoder.node ?? .value(.document(Document()))).resolve()
        }
    }

    /// The node for any encodable value: BSON's own types and Foundation's Date, Data and UUID
    /// directly, anything else through its `encode(to:)`.
    static func box<T: Encodable>(
        _ value: T, codingPath: @autoclosure () -> [any CodingKey],
        userInfo: [CodingUserInfoKey: any Sendable]
    ) throws -> EncodingNode {
        switch value {
        case let v as BSONValue: return .value(v)
        case let v as Document: return .value(.document(v))
        case let v as ObjectId: return .value(.objectId(v))
        case let v as Decimal128: return .value(.decimal128(v))
        case let v as BSONBinary: return .value(.binary(v))
        case let v as Date: return .value(.datetime(Int64((v.timeIntervalSince1970 * 1000).rounded(.down))))
        case let v as Data: return .value(.binary(BSONBinary(subtype: .generic, data: [UInt8](v))))
        case let v as UUID:
            let u = v.uuid
            let bytes = [
                u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15,
            ]
            return .value(.binary(BSONBinary(subtype: .uuid, data: bytes)))
        default:
            let encoder = BSONEncoderImpl(codingPath: codingPath(), userInfo: userInfo)
            try value.encode(to: encoder)
            return encoder.node ?? .value(.document(Document()))
        }
    }

    /// The path is only built when the value does not fit.
    static func integer<T: BinaryInteger>(_ value: T, codingPath: @autoclosure () -> [any CodingKey]) throws
        -> EncodingNode
    {
        if T.self == Int32.self || T.self == Int16.self || T.self == Int8.self || T.self == UInt16.self
            || T.self == UInt8.self, let v = Int32(exactly: value)
        {
            return .value(.int32(v))
        }
        guard let v = Int64(exactly: value) else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath(), debugDescription: "\(value) does not fit a BSON int64")
            )
        }
        return .value(.int64(v))
    }
}

/// The `Encoder` handed to `encode(to:)`; holds the one top node it produced.
final class BSONEncoderImpl: Encoder {
    let codingPath: [any CodingKey]
    let userInfoStore: [CodingUserInfoKey: any Sendable]
    var node: EncodingNode?

    var userInfo: [CodingUserInfoKey: Any] { userInfoStore }

    init(codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.codingPath = codingPath
        self.userInfoStore = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: EncodingNode.KeyedBox
        if case .keyed(let existing)? = node {
            box = existing
        } else {
            box = EncodingNode.KeyedBox()
            node = .keyed(box)
        }
        return KeyedEncodingContainer(
            BSONKeyedEncodingContainer<Key>(encoder: self, box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: EncodingNode.UnkeyedBox
        if case .unkeyed(let existing)? = node {
            box = existing
        } else {
            box = EncodingNode.UnkeyedBox()
            node = .unkeyed(box)
        }
        return BSONUnkeyedEncodingContainer(encoder: self, box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BSONSingleValueEncodingContainer(encoder: self)
    }
}
