#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes `Decodable` values from BSON documents (the mapping of `BSONEncoder`, read
/// leniently): integers from int32, int64, or a double that is exactly an integer in range;
/// Double from any number; String from string or symbol; Date from datetime; Data from any
/// binary; UUID from a 16-byte binary of subtype 3 or 4; ObjectId from an ObjectId or its hex
/// string. A missing field and a null field both decode as nil for optionals.
///
/// Throws `DecodingError` with the coding path of the failing value.
public struct BSONDecoder: Sendable {
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from document: Document) throws -> T {
        try decode(type, fromValue: .document(document))
    }

    public func decode<T: Decodable>(_ type: T.Type, fromValue value: BSONValue) throws -> T {
        try BSONDecoderImpl(value: value, codingPath: [], userInfo: userInfo).unbox(type)
    }
}

/// The `Decoder` for one BSON value.
struct BSONDecoderImpl: Decoder {
    let value: BSONValue
    let codingPath: [any CodingKey]
    let userInfoStore: [CodingUserInfoKey: any Sendable]

    var userInfo: [CodingUserInfoKey: Any] { userInfoStore }

    init(value: BSONValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.value = value
        self.codingPath = codingPath
        self.userInfoStore = userInfo
    }

    func mismatch(_ type: Any.Type, _ expected: String) -> DecodingError {
        BSONDecoderImpl.mismatch(value, type, expected, codingPath)
    }

    static func mismatch(_ value: BSONValue, _ type: Any.Type, _ expected: String, _ path: [any CodingKey])
        -> DecodingError
    {
        if case .null = value {
            return .valueNotFound(
                type, .init(codingPath: path, debugDescription: "expected \(expected), found null"))
        }
        return .typeMismatch(
            type, .init(codingPath: path, debugDescription: "expected \(expected), found BSON \(value.type)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .document(let document) = value else { throw mismatch(Document.self, "a document") }
        return KeyedDecodingContainer(BSONKeyedDecodingContainer<Key>(decoder: self, document: document))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([BSONValue].self, "an array") }
        return BSONUnkeyedDecodingContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BSONSingleValueDecodingContainer(decoder: self)
    }

    /// A decoder for a nested value.
    func nested(_ value: BSONValue, key: any CodingKey) -> BSONDecoderImpl {
        BSONDecoderImpl(value: value, codingPath: codingPath + [key], userInfo: userInfoStore)
    }

    // MARK: Primitive values (static, so containers need no nested decoder; paths built on error)

    static func bool(_ value: BSONValue, _ path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        guard case .bool(let v) = value else { throw mismatch(value, Bool.self, "a bool", path()) }
        return v
    }

    static func string(_ value: BSONValue, _ path: @autoclosure () -> [any CodingKey]) throws -> String {
        switch value {
        case .string(let v), .symbol(let v): return v
        default: throw mismatch(value, String.self, "a string", path())
        }
    }

    static func double(_ value: BSONValue, _ path: @autoclosure () -> [any CodingKey]) throws -> Double {
        guard let v = value.numericDouble else { throw mismatch(value, Double.self, "a number", path()) }
        return v
    }

    static func integer<T: FixedWidthInteger>(
        _ value: BSONValue, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        let result: T?
        switch value {
        case .int32(let v): result = T(exactly: v)
        case .int64(let v): result = T(exactly: v)
        case .double(let v): result = T(exactly: v)
        default: throw mismatch(value, type, "an integer", path())
        }
        guard let result else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: path(), debugDescription: "\(value) does not fit \(T.self) exactly"))
        }
        return result
    }

    /// Decodes any `Decodable`, taking BSON's own types and Date, Data, UUID directly.
    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == BSONValue.self, let v = value as? T { return v }
        if T.self == Document.self {
            guard case .document(let d) = value, let v = d as? T else { throw mismatch(type, "a document") }
            return v
        }
        if T.self == ObjectId.self {
            switch value {
            case .objectId(let id): if let v = id as? T { return v }
            case .string(let hex): if let id = ObjectId(hex: hex), let v = id as? T { return v }
            default: break
            }
            throw mismatch(type, "an ObjectId")
        }
        if T.self == Decimal128.self {
            guard case .decimal128(let d) = value, let v = d as? T else {
                throw mismatch(type, "a decimal128")
            }
            return v
        }
        if T.self == BSONBinary.self {
            guard case .binary(let b) = value, let v = b as? T else { throw mismatch(type, "a binary") }
            return v
        }
        if T.self == Date.self {
            guard case .datetime(let ms) = value, let v = Date(timeIntervalSince1970: Double(ms) / 1000) as? T
            else {
                throw mismatch(type, "a datetime")
            }
            return v
        }
        if T.self == Data.self {
            guard case .binary(let b) = value, let v = Data(b.data) as? T else {
                throw mismatch(type, "a binary")
            }
            return v
        }
        if T.self == UUID.self {
            guard case .binary(let b) = value, b.data.count == 16,
                b.subtype == .uuid || b.subtype == .uuidOld
            else { throw mismatch(type, "a 16-byte UUID binary") }
            let d = b.data
            let uuid = UUID(
                uuid: (
                    d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13],
                    d[14], d[15]
                ))
            if let v = uuid as? T { return v }
        }
        return try T(from: self)
    }
}
