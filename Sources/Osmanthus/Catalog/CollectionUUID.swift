import OsmanthusBSON

/// A collection's UUID (MongoDB's `collectionUUID`, `info.uuid`): derived from the directory's
/// random seed (`KeyFormat.collectionUUIDSeedKey`, written once) and the collection's catalog
/// id, which is never reused. So it is stable across restarts and renames, distinct for every
/// collection a directory ever had, and a change record needs to carry only the small id to
/// name the collection even after it was dropped (SPEC.md §11, §16.2).
///
/// ```
/// bytes 0..<8   mix64(seed[0..<8] ^ id), with the version nibble of byte 6 set to 4
/// bytes 8..<12  seed[8..<12], with the variant bits of byte 8 set to 10
/// bytes 12..<16 u32be(id) ^ seed[12..<16]          (so two ids never give one UUID)
/// ```
enum CollectionUUID {
    static let seedSize = 16

    static func bytes(seed: [UInt8], id: UInt32) -> [UInt8] {
        precondition(seed.count == seedSize, "a collection UUID seed is 16 bytes")
        var head: UInt64 = 0
        for i in 0..<8 { head = head << 8 | UInt64(seed[i]) }
        head = mix64(head ^ UInt64(id))
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: head >> (56 - 8 * UInt64(i))) }
        out[6] = out[6] & 0x0F | 0x40
        out[8] = seed[8] & 0x3F | 0x80
        for i in 9..<12 { out[i] = seed[i] }
        for i in 0..<4 { out[12 + i] = UInt8(truncatingIfNeeded: id >> (24 - 8 * UInt32(i))) ^ seed[12 + i] }
        return out
    }

    static func value(seed: [UInt8], id: UInt32) -> BSONValue {
        .binary(BSONBinary(uuidBytes: bytes(seed: seed, id: id)))
    }

    /// A fresh random seed.
    static func makeSeed() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<seedSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// SplitMix64's finalizer: a bijection that spreads every input bit over the output.
    private static func mix64(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
