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
        if end - p >= 3 && (base[p] | base[p + 1] | base[p + 2]) < 0x80 {
            // Fast path: all three lengths fit in one byte each (keys and values < 128 bytes).
            position = p + 3
            return BlockEntryHeader(shared: Int(base[p]), unshared: Int(base[p + 1]), valueLength: Int(base[p + 2]))
        }
        guard let s = RawVarint.decode32(base, &position, end: end),
            let u = RawVarint.decode32(base, &position, end: end),
            let v = RawVarint.decode32(base, &position, end: end)
        else { return nil }
        return BlockEntryHeader(shared: s, unshared: u, valueLength: v)
    }
}
