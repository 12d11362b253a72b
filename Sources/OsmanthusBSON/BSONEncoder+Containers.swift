/// The keyed, unkeyed and single-value containers of `BSONEncoder`.
struct BSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BSONEncoderImpl
    let box: EncodingNode.KeyedBox
    let codingPath: [any CodingKey]

    private func put(_ key: Key, _ node: EncodingNode) { box.set(key.stringValue, node) }

    mutating func encodeNil(forKey key: Key) throws { put(key, .value(.null)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .value(.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .value(.string(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, .value(.double(value))) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(key, .value(.double(Double(value)))) }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Int8, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Int16, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        put(key, try .integer(value, codingPath: codingPath + [key]))
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(key, try .box(value, codingPath: codingPath + [key], userInfo: encoder.userInfoStore))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = EncodingNode.KeyedBox()
        put(key, .keyed(nested))
        return KeyedEncodingContainer(
            BSONKeyedEncodingContainer<NestedKey>(
                encoder: encoder, box: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = EncodingNode.UnkeyedBox()
        put(key, .unkeyed(nested))
        return BSONUnkeyedEncodingContainer(encoder: encoder, box: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: "super") }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let sub = BSONEncoderImpl(codingPath: codingPath + [key], userInfo: encoder.userInfoStore)
        put(key, .deferred(sub))
        return sub
    }

    private mutating func superEncoder(forKey name: String) -> any Encoder {
        let sub = BSONEncoderImpl(codingPath: codingPath, userInfo: encoder.userInfoStore)
        box.set(name, .deferred(sub))
        return sub
    }
}

struct BSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BSONEncoderImpl
    let box: EncodingNode.UnkeyedBox
    let codingPath: [any CodingKey]

    var count: Int { box.elements.count }
    private var nextPath: [any CodingKey] { codingPath + [IndexKey(box.elements.count)] }

    mutating func encodeNil() throws { box.elements.append(.value(.null)) }
    mutating func encode(_ value: Bool) throws { box.elements.append(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { box.elements.append(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { box.elements.append(.value(.double(value))) }
    mutating func encode(_ value: Float) throws { box.elements.append(.value(.double(Double(value)))) }
    mutating func encode(_ value: Int) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: Int8) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: Int16) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: Int32) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: Int64) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: UInt) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: UInt8) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: UInt16) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: UInt32) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }
    mutating func encode(_ value: UInt64) throws {
        box.elements.append(try .integer(value, codingPath: nextPath))
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        box.elements.append(try .box(value, codingPath: nextPath, userInfo: encoder.userInfoStore))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let path = nextPath
        let nested = EncodingNode.KeyedBox()
        box.elements.append(.keyed(nested))
        return KeyedEncodingContainer(
            BSONKeyedEncodingContainer<NestedKey>(encoder: encoder, box: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let nested = EncodingNode.UnkeyedBox()
        box.elements.append(.unkeyed(nested))
        return BSONUnkeyedEncodingContainer(encoder: encoder, box: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let sub = BSONEncoderImpl(codingPath: nextPath, userInfo: encoder.userInfoStore)
        box.elements.append(.deferred(sub))
        return sub
    }
}

struct BSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BSONEncoderImpl
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func put(_ node: EncodingNode) { encoder.node = node }

    mutating func encodeNil() throws { put(.value(.null)) }
    mutating func encode(_ value: Bool) throws { put(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { put(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { put(.value(.double(value))) }
    mutating func encode(_ value: Float) throws { put(.value(.double(Double(value)))) }
    mutating func encode(_ value: Int) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int8) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int16) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int32) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int64) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt8) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt16) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt32) throws { put(try .integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt64) throws { put(try .integer(value, codingPath: codingPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        put(try .box(value, codingPath: codingPath, userInfo: encoder.userInfoStore))
    }
}

/// A coding key for array positions and ad-hoc string keys.
struct IndexKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(_ index: Int) {
        stringValue = String(index)
        intValue = index
    }

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = Int(stringValue)
    }

    init(intValue: Int) { self.init(intValue) }
}
