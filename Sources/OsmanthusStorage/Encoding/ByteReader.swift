/// A bounds-checked cursor that decodes the engine's encoding primitives (SPEC.md §3).
///
/// Every read returns `nil` when the input is too short or malformed, so callers turn a bad
/// byte into a `.corruption` error naming their own file and offset.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position >= end }

    public mutating func readByte() -> UInt8? {
        guard position < end else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readFixed32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        let v = bytes.loadFixed32(at: position)
        position += 4
        return v
    }

    public mutating func readFixed64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        let v = bytes.loadFixed64(at: position)
        position += 8
        return v
    }

    public mutating func readVarint64() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while shift <= 63 {
            guard let byte = readByte() else { return nil }
            if shift == 63 && byte > 1 { return nil }  // overflows 64 bits
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    public mutating func readVarint32() -> UInt32? {
        guard let v = readVarint64(), v <= UInt64(UInt32.max) else { return nil }
        return UInt32(v)
    }

    /// A varint that must fit an `Int` and at most `limit`.
    public mutating func readLength(limit: Int = Int(Int32.max)) -> Int? {
        guard let v = readVarint64(), v <= UInt64(limit) else { return nil }
        return Int(v)
    }

    public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    public mutating func readLengthPrefixed() -> [UInt8]? {
        guard let n = readLength() else { return nil }
        return readBytes(n)
    }

    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        position += count
        return true
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    public func loadFixed32(at index: Int) -> UInt32 {
        UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16
            | UInt32(self[index + 3]) << 24
    }

    @inline(__always)
    public func loadFixed64(at index: Int) -> UInt64 {
        UInt64(loadFixed32(at: index)) | UInt64(loadFixed32(at: index + 4)) << 32
    }
}
