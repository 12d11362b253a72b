/// Appends the engine's encoding primitives to a byte array (SPEC.md §3): fixed-width
/// little-endian integers and LEB128 varints.
extension Array where Element == UInt8 {
    @inline(__always)
    public mutating func appendFixed32(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }

    @inline(__always)
    public mutating func appendFixed64(_ value: UInt64) {
        appendFixed32(UInt32(truncatingIfNeeded: value))
        appendFixed32(UInt32(truncatingIfNeeded: value >> 32))
    }

    @inline(__always)
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    @inline(__always)
    public mutating func appendVarint(_ value: Int) {
        precondition(value >= 0, "varints encode non-negative values")
        appendVarint(UInt64(value))
    }

    /// A varint length followed by the bytes.
    @inline(__always)
    public mutating func appendLengthPrefixed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        appendVarint(bytes.count)
        append(contentsOf: bytes)
    }

    /// Overwrites 4 bytes at `index` with a little-endian value.
    @inline(__always)
    public mutating func storeFixed32(_ value: UInt32, at index: Int) {
        self[index] = UInt8(truncatingIfNeeded: value)
        self[index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        self[index + 2] = UInt8(truncatingIfNeeded: value >> 16)
        self[index + 3] = UInt8(truncatingIfNeeded: value >> 24)
    }
}

/// Writes `value` as a varint (SPEC.md §3) at `p`, which has room for its `varintLength`;
/// returns that length. For hot paths that write into raw memory rather than a byte array.
@inline(__always)
func storeVarint(_ value: UInt64, at p: UnsafeMutableRawPointer) -> Int {
    var v = value
    var n = 0
    while v >= 0x80 {
        p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: n, as: UInt8.self)
        v >>= 7
        n += 1
    }
    p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: n, as: UInt8.self)
    return n + 1
}

/// Varint length in bytes.
@inline(__always)
public func varintLength(_ value: UInt64) -> Int {
    var v = value
    var n = 1
    while v >= 0x80 {
        v >>= 7
        n += 1
    }
    return n
}
