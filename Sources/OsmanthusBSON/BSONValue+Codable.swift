/// `Codable` for OsmanthusBSON's own types, so that structs holding them synthesize `Codable`.
///
/// `BSONEncoder`/`BSONDecoder` never call these: they store the types as the BSON values they
/// are. Other coders (JSONEncoder, ...) get a plain-JSON approximation: ObjectId as its hex
/// string, binary as base64, datetime as milliseconds, documents as objects. Types without a
/// JSON counterpart (MinKey, MaxKey, undefined) become null.
extension ObjectId: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let id = ObjectId(hex: hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ObjectId: \(hex)")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension BSONBinary: Codable {
    private enum CodingKeys: String, CodingKey { case subtype, base64 }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .base64)
        guard let data = Base64.decode(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .base64, in: container, debugDescription: "bad base64")
        }
        self.init(subtype: Subtype(try container.decode(UInt8.self, forKey: .subtype)), data: data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subtype.rawValue, forKey: .subtype)
        try container.encode(Base64.encode(data), forKey: .base64)
    }
}

extension Document: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: IndexKey.self)
        self.init()
        for key in container.allKeys {
            append(key.stringValue, try container.decode(BSONValue.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: IndexKey.self)
        for (key, value) in self {
            try container.encode(value, forKey: IndexKey(stringValue: key))
        }
    }
}

extension BSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            if container.decodeNil() {
                self = .null
                return
            }
            if let v = try? container.decode(Bool.self) {
                self = .bool(v)
                return
            }
            if let v = try? container.decode(Int64.self) {
                self = Int32(exactly: v).map { .int32($0) } ?? .int64(v)
                return
            }
            if let v = try? container.decode(Double.self) {
                self = .double(v)
                return
            }
            if let v = try? container.decode(String.self) {
                self = .string(v)
                return
            }
        }
        if let document = try? Document(from: decoder) {
            self = .document(document)
            return
        }
        var array = try decoder.unkeyedContainer()
        var values = [BSONValue]()
        while !array.isAtEnd { values.append(try array.decode(BSONValue.self)) }
        self = .array(values)
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .document(let document):
            try document.encode(to: encoder)
        case .javascriptWithScope(_, let scope):
            try scope.encode(to: encoder)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .double(let v): try container.encode(v)
            case .string(let v), .javascript(let v), .symbol(let v): try container.encode(v)
            case .binary(let v): try container.encode(Base64.encode(v.data))
            case .objectId(let v): try container.encode(v.hex)
            case .bool(let v): try container.encode(v)
            case .datetime(let v): try container.encode(v)
            case .regex(let pattern, let options): try container.encode("/\(pattern)/\(options)")
            case .dbPointer(let namespace, let id): try container.encode("\(namespace)/\(id.hex)")
            case .int32(let v): try container.encode(v)
            case .timestamp(let increment, let seconds):
                try container.encode(UInt64(seconds) << 32 | UInt64(increment))
            case .int64(let v): try container.encode(v)
            case .decimal128(let v): try container.encode(v.description)
            default: try container.encodeNil()
            }
        }
    }
}
