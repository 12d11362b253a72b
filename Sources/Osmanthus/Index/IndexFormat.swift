/// The layout of index catalog records and index entries (SPEC.md §11.5). Changing a constant
/// here changes the on-disk format.
enum IndexFormat {
    /// `0x03 ‖ u32be(collection id) ‖ u32be(index id)` → index catalog record (BSON).
    static let catalogSpace: UInt8 = 0x03
    /// `0x11 ‖ u32be(collection id) ‖ u32be(index id) ‖ field₁ … fieldₙ ‖ primary key` → entry.
    static let entrySpace: UInt8 = 0x11
    /// `0x02 ‖ "nextIndexId"` → u32le: the next index id (ids are never reused).
    static let nextIndexIdKey: [UInt8] = [KeyFormat.Space.meta.rawValue] + Array("nextIndexId".utf8)

    static func catalogKey(collectionId: UInt32, indexId: UInt32) -> [UInt8] {
        [catalogSpace] + be32(collectionId) + be32(indexId)
    }

    static func entryPrefix(collectionId: UInt32, indexId: UInt32) -> [UInt8] {
        [entrySpace] + be32(collectionId) + be32(indexId)
    }

    static func collectionEntryPrefix(_ collectionId: UInt32) -> [UInt8] { [entrySpace] + be32(collectionId) }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
         UInt8(truncatingIfNeeded: v)]
    }

    /// The smallest byte string above every string that starts with `bytes` (empty: none).
    static func prefixEnd(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        while let last = out.last {
            if last < 0xFF {
                out[out.count - 1] = last + 1
                return out
            }
            out.removeLast()
        }
        return []
    }

    /// A descending field's bytes: the complement of its ascending encoding. The encoding is
    /// prefix-free, so complementing every byte reverses the order between any two encodings.
    static func complement(_ bytes: [UInt8]) -> [UInt8] { bytes.map { ~$0 } }
}
