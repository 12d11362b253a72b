/// The table's bloom filter over user keys (SPEC.md §7.4):
///
///     filter := bit array (n bytes, n ≥ 8) ‖ byte probeCount
///
/// Each key is hashed once to 32 bits; the probes are `h, h+δ, h+2δ, …` (mod the bit count) with
/// δ derived from `h` (double hashing: one hash, k probes, about the false-positive rate of k
/// independent hashes). Bit `i` is bit `i % 8` of byte `i / 8`.
enum BloomFilter {
    /// Probe counts above this are reserved: such a filter matches everything.
    static let maxProbes = 30

    /// k = bitsPerKey · ln 2 (rounded) minimizes the false-positive rate: 7 probes and ≈ 0.8%
    /// at 10 bits per key.
    static func probeCount(bitsPerKey: Int) -> Int {
        min(max(Int((Double(bitsPerKey) * 0.693_147).rounded()), 1), maxProbes)
    }

    /// Builds a filter for keys given by their `hash` values.
    static func build(hashes: [UInt32], bitsPerKey: Int) -> [UInt8] {
        let probes = probeCount(bitsPerKey: bitsPerKey)
        // At least 64 bits so tiny tables do not have absurd false-positive rates.
        // At most 2^31 bits so bit indexes fit in 32 bits.
        let bits = min(max(64, hashes.count * bitsPerKey), 1 << 31)
        let byteCount = (bits + 7) / 8
        let bitCount = UInt32(byteCount * 8)
        var filter = [UInt8](repeating: 0, count: byteCount + 1)
        filter.withUnsafeMutableBufferPointer { f in
            for var h in hashes {
                let delta = rotateRight(h, 17)
                for _ in 0..<probes {
                    let bit = h % bitCount
                    f[Int(bit >> 3)] |= 1 << (bit & 7)
                    h = h &+ delta
                }
            }
        }
        filter[byteCount] = UInt8(probes)
        return filter
    }

    /// false only if the key whose hash is `hash` was certainly not added.
    static func mayContain(_ filter: [UInt8], hash: UInt32) -> Bool {
        guard filter.count >= 2 else { return true }  // no filter (bloomBitsPerKey ≤ 0)
        let probes = Int(filter[filter.count - 1])
        guard probes >= 1 && probes <= maxProbes else { return true }
        let bitCount = UInt32(truncatingIfNeeded: (filter.count - 1) * 8)
        guard bitCount > 0 else { return true }
        return filter.withUnsafeBufferPointer { f in
            var h = hash
            let delta = rotateRight(h, 17)
            for _ in 0..<probes {
                let bit = h % bitCount
                if f[Int(bit >> 3)] & (1 << (bit & 7)) == 0 { return false }
                h = h &+ delta
            }
            return true
        }
    }

    /// A 32-bit hash in the style of MurmurHash3: 4-byte little-endian blocks, each scrambled
    /// by multiply-rotate-multiply and folded into the state, then a final avalanche.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let c1: UInt32 = 0xCC9E_2D51
        let c2: UInt32 = 0x1B87_3593
        var h: UInt32 = 0x5BD1_E995 ^ UInt32(truncatingIfNeeded: bytes.count)
        var i = 0
        let n = bytes.count
        while i + 4 <= n {
            var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                | UInt32(bytes[i + 3]) << 24
            k = rotateLeft(k &* c1, 15) &* c2
            h ^= k
            h = rotateLeft(h, 13) &* 5 &+ 0xE654_6B64
            i += 4
        }
        var tail: UInt32 = 0
        var shift: UInt32 = 0
        while i < n {
            tail |= UInt32(bytes[i]) << shift
            shift += 8
            i += 1
        }
        if shift > 0 {
            h ^= rotateLeft(tail &* c1, 15) &* c2
        }
        h ^= h >> 16
        h = h &* 0x85EB_CA6B
        h ^= h >> 13
        h = h &* 0xC2B2_AE35
        h ^= h >> 16
        return h
    }

    static func hash(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { hash($0) }
    }

    @inline(__always)
    private static func rotateLeft(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }

    @inline(__always)
    private static func rotateRight(_ x: UInt32, _ r: UInt32) -> UInt32 { (x >> r) | (x << (32 - r)) }
}
