/// The three lengths that open every block entry (SPEC.md, "Block"): bytes shared with the
/// previous key, unshared key bytes, value bytes. One decoder for the iterator, the point search
/// and the restart binary search, all on the read hot path.
struct BlockEntryHeader {
    let shared: Int
    let unshared: Int
    let valueLength: Int

    /// Decodes the header at `position` (moved past it); nil on a bad or truncated varint.
    @inline(__always)
    static func decode(_ base: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> BlockEntryHeader? {
        let p = position
        if end &- p >= 3 && (base[p] | base[p &+ 1]) < 0x80 {
            let v0 = base[p &+ 2]
            if v0 < 0x80 {
                // All three lengths fit in one byte each (keys and values < 128 bytes).
                position = p &+ 3
                return BlockEntryHeader(shared: Int(base[p]), unshared: Int(base[p &+ 1]), valueLength: Int(v0))
            }
            // Short keys, a value of 128 B to 16 KiB (a document): its length takes two bytes.
            if end &- p >= 4 {
                let v1 = base[p &+ 3]
                if v1 < 0x80 {
                    position = p &+ 4
                    return BlockEntryHeader(
                        shared: Int(base[p]), unshared: Int(base[p &+ 1]),
                        valueLength: Int(v0 & 0x7F) | Int(v1) &<< 7)
                }
            }
        }
        return decodeVarints(base, &position, end: end)
    }

    /// Every other header: three general varints. Out of line, so the common cases above stay
    /// small enough to inline into the scans.
    @inline(never)
    static func decodeVarints(_ base: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> BlockEntryHeader? {
        guard let s = RawVarint.decode32(base, &position, end: end),
            let u = RawVarint.decode32(base, &position, end: end),
            let v = RawVarint.decode32(base, &position, end: end)
        else { return nil }
        return BlockEntryHeader(shared: s, unshared: u, valueLength: v)
    }
}
