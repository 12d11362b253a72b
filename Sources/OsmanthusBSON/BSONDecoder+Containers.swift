/// The keyed, unkeyed and single-value containers of `BSONDecoder`.
struct BSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BSONDecoderImpl
    let document: Document

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { document.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { document.contains(key.stringValue) }

    private func value(_ key: Key) throws -> BSONValue {
        guard let value = document[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "no field \"\(key.stringValue)\""))
        }
        return value
    }

    private func nested(_ key: Key) throws -> BSONDecoderImpl {
        decoder.nested(try value(key), key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        switch document[key.stringValue] {
        case nil, .null?, .undefined?: true
        default: false
        }
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try BSONDecoderImpl.bool(value(key), codingPath + [key])
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try BSONDecoderImpl.string(value(key), codingPath + [key])
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try BSONDecoderImpl.double(value(key), codingPath + [key])
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        Float(try BSONDecoderImpl.double(value(key), codingPath + [key]))
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try BSONDecoderImpl.integer(value(key), type, codingPath + [key])
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try nested(key).unbox(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try nested(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try nested(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.nested(document["super"] ?? .null, key: IndexKey(stringValue: "super"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.nested(document[key.stringValue] ?? .null, key: key)
    }
}

struct BSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BSONDecoderImpl
    let elements: [BSONValue]
    private(set) var currentIndex = 0

    init(decoder: BSONDecoderImpl, elements: [BSONValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func nextValue(_ type: Any.Type) throws -> BSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(
                    codingPath: codingPath + [IndexKey(currentIndex)],
                    debugDescription: "array has no more elements"))
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    private mutating func next(_ type: Any.Type) throws -> BSONDecoderImpl {
        let index = currentIndex
        return decoder.nested(try nextValue(type), key: IndexKey(index))
    }

    private var path: [any CodingKey] { codingPath + [IndexKey(currentIndex - 1)] }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        switch elements[currentIndex] {
        case .null, .undefined:
            currentIndex += 1
            return true
        default:
            return false
        }
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try BSONDecoderImpl.bool(nextValue(type), path) }
    mutating func decode(_ type: String.Type) throws -> String {
        try BSONDecoderImpl.string(nextValue(type), path)
    }
    mutating func decode(_ type: Double.Type) throws -> Double {
        try BSONDecoderImpl.double(nextValue(type), path)
    }
    mutating func decode(_ type: Float.Type) throws -> Float {
        Float(try BSONDecoderImpl.double(nextValue(type), path))
    }
    mutating func decode(_ type: Int.Type) throws -> Int {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: Int8.Type) throws -> Int8 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: Int16.Type) throws -> Int16 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: Int32.Type) throws -> Int32 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: Int64.Type) throws -> Int64 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: UInt.Type) throws -> UInt {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 {
        try BSONDecoderImpl.integer(nextValue(type), type, path)
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).unbox(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next(Document.self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([BSONValue].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next(BSONValue.self) }
}

struct BSONSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BSONDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        switch decoder.value {
        case .null, .undefined: true
        default: false
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool { try BSONDecoderImpl.bool(decoder.value, codingPath) }
    func decode(_ type: String.Type) throws -> String {
        try BSONDecoderImpl.string(decoder.value, codingPath)
    }
    func decode(_ type: Double.Type) throws -> Double {
        try BSONDecoderImpl.double(decoder.value, codingPath)
    }
    func decode(_ type: Float.Type) throws -> Float {
        Float(try BSONDecoderImpl.double(decoder.value, codingPath))
    }
    func decode(_ type: Int.Type) throws -> Int {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: Int8.Type) throws -> Int8 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: Int16.Type) throws -> Int16 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: Int32.Type) throws -> Int32 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: Int64.Type) throws -> Int64 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: UInt.Type) throws -> UInt {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: UInt8.Type) throws -> UInt8 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: UInt16.Type) throws -> UInt16 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: UInt32.Type) throws -> UInt32 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode(_ type: UInt64.Type) throws -> UInt64 {
        try BSONDecoderImpl.integer(decoder.value, type, codingPath)
    }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(type) }
}
