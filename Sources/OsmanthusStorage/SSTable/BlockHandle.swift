/// Where a block lives in a table file: `varint64 offset ‖ varint64 size` (SPEC.md §7.1).
///
/// `size` counts the stored block bytes only, not the 5-byte trailer that follows them.
struct BlockHandle: Equatable, Sendable {
    var offset: UInt64
    var size: UInt64

    /// Two 10-byte varints.
    static let maxEncodedLength = 20

    func encode(into out: inout [UInt8]) {
        out.appendVarint(offset)
        out.appendVarint(size)
    }

    /// Decodes a handle from `bytes[position...]` (never reading at or past `end`), advancing
    /// `position`. nil on a truncated or overlong varint.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int, end: Int) -> BlockHandle? {
        guard let offset = RawVarint.decode64(bytes, &position, end: end),
            let size = RawVarint.decode64(bytes, &position, end: end)
        else { return nil }
        return BlockHandle(offset: offset, size: size)
    }

    /// A handle that fills `bytes` exactly (an index entry's value); nil otherwise.
    @inline(__always)
    static func decodeExactly(_ bytes: UnsafeBufferPointer<UInt8>) -> BlockHandle? {
        var position = 0
        guard let handle = decode(bytes, &position, end: bytes.count), position == bytes.count else { return nil }
        return handle
    }

    static func decode(_ bytes: [UInt8]) -> BlockHandle? {
        bytes.withUnsafeBufferPointer { raw in
            var position = 0
            return decode(raw, &position, end: raw.count)
        }
    }
}

/// Varint decoding straight from raw memory, for the block iteration hot paths where going through
/// `ByteReader` (which owns an array) would cost a retain per entry. Callers guarantee that
/// `base[position..<end]` is readable; nothing at or past `end` is read.
enum RawVarint {
    /// nil when the varint runs to `end` or overflows 64 bits.
    @inline(__always)
    static func decode64(_ base: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var p = position
        while p < end {
            let byte = base[p]
            p += 1
            if shift == 63 && byte > 1 { return nil }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                position = p
                return result
            }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    @inline(__always)
    static func decode64(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int, end: Int) -> UInt64? {
        guard let base = bytes.baseAddress, end <= bytes.count else { return nil }
        return decode64(base, &position, end: end)
    }

    /// A varint that must fit in 32 bits (block-local lengths and offsets).
    @inline(__always)
    static func decode32(_ base: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> Int? {
        guard let v = decode64(base, &position, end: end), v <= UInt64(UInt32.max) else { return nil }
        return Int(v)
    }
}
