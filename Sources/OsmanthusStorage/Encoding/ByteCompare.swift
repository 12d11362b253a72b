import Glibc

/// Bytewise comparison of `count` bytes at `a` and `b`: -1, 0 or 1, the sign of `memcmp`.
///
/// Keys are short (16–40 bytes), where a call into libc's vectorized `memcmp` costs more than
/// the comparison: here eight bytes at a time are loaded and, at the first differing word,
/// compared as big-endian integers (byte order = numeric order). Long runs still go to `memcmp`.
@inline(__always)
func compareMemory(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Int {
    if count > 64 {
        let r = memcmp(a, b, count)
        return r < 0 ? -1 : (r > 0 ? 1 : 0)
    }
    var i = 0
    while i + 8 <= count {
        let x = a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        let y = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        if x != y {
            let bx = UInt64(bigEndian: x)
            let by = UInt64(bigEndian: y)
            return bx < by ? -1 : 1
        }
        i += 8
    }
    while i < count {
        let x = a.load(fromByteOffset: i, as: UInt8.self)
        let y = b.load(fromByteOffset: i, as: UInt8.self)
        if x != y { return x < y ? -1 : 1 }
        i += 1
    }
    return 0
}
