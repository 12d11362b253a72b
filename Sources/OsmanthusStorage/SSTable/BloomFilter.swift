/// The table's bloom filter over user keys (SPEC.md §7.4):
///
///     filter := bit array (n bytes) ‖ byte layout
///
/// Each key is hashed once to 32 bits. Two layouts, told apart by the last byte:
/// - cache-local (`layout = 0x40 | k`, what tables are written with): n is a multiple of 64 and
///   the array is cut into 64-byte lines; `h` picks one line and all k probes fall inside it, so
///   a lookup touches one cache line of the filter instead of k scattered ones (the filters of
///   a large database do not stay in the CPU caches, and a point read probes several tables).
/// - classic (`layout = k`, tables written before): probes `h, h+δ, h+2δ, …` over the whole
///   array, δ derived from `h`. Still read.
/// Bit `i` is bit `i % 8` of byte `i / 8`.
enum BloomFilter {
    /// Probe counts above this are reserved: such a filter matches everything.
    static let maxProbes = 30
    /// Set in the last byte of a cache-local filter, whose low bits are the probe count.
    static let cacheLocalFlag: UInt8 = 0x40
    /// Bytes per line of a cache-local filter (one cache line).
    static let lineBytes = 64

    /// k = bitsPerKey · ln 2 (rounded) minimizes the false-positive rate: 7 probes and ≈ 0.8%
    /// at 10 bits per key (≈ 1% in the cache-local layout).
    static func probeCount(bitsPerKey: Int) -> Int {
        min(max(Int((Double(bitsPerKey) * 0.693_147).rounded()), 1), maxProbes)
    }

    /// Builds a cache-local filter for keys given by their `hash` values.
    static func build(hashes: [UInt32], bitsPerKey: Int) -> [UInt8] {
        let probes = probeCount(bitsPerKey: bitsPerKey)
        // At least one line; whole lines; at most 2^31 bits so line indexes stay small.
        let lineBits = lineBytes * 8
        let bits = min(max(lineBits, hashes.count * bitsPerKey), 1 << 31)
        let lines = (bits + lineBits - 1) / lineBits
        let byteCount = lines * lineBytes
        var filter = [UInt8](repeating: 0, count: byteCount + 1)
        filter.withUnsafeMutableBufferPointer { f in
            for hash in hashes {
                let base = line(hash, lines) &* lineBytes
                let (first, delta) = lineProbes(hash)
                var h = first
                for _ in 0..<probes {
                    let bit = Int(h & 511)
                    f[base &+ bit >> 3] |= 1 << UInt8(bit & 7)
                    h = h &+ delta
                }
            }
        }
        filter[byteCount] = cacheLocalFlag | UInt8(probes)
        return filter
    }

    /// Builds a filter in the classic layout (what tables were written with before the
    /// cache-local one; kept so tests can check such filters are still read).
    static func buildClassic(hashes: [UInt32], bitsPerKey: Int) -> [UInt8] {
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

    /// The line of a cache-local filter with `lines` lines that `hash` picks (the high bits of
    /// `hash × lines`: no division).
    @inline(__always)
    private static func line(_ hash: UInt32, _ lines: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(hash) &* UInt64(truncatingIfNeeded: lines)) >> 32)
    }

    /// The first in-line probe and the step between probes (odd, so the k probes of a line
    /// differ): from `hash` remixed, since its high bits already chose the line.
    @inline(__always)
    private static func lineProbes(_ hash: UInt32) -> (UInt32, UInt32) {
        let h = hash &* 0x9E37_79B1
        return (h, rotateRight(h, 17) | 1)
    }

    /// false only if the key whose hash is `hash` was certainly not added.
    static func mayContain(_ filter: [UInt8], hash: UInt32) -> Bool {
        filter.withUnsafeBytes { mayContain($0, hash: hash) }
    }

    /// `mayContain` over the filter's bytes in memory (a table keeps them cache-line aligned).
    @inline(__always)
    static func mayContain(_ filter: UnsafeRawBufferPointer, hash: UInt32) -> Bool {
        guard filter.count >= 2, let f = filter.baseAddress else { return true }  // no filter
        let layout = filter[filter.count - 1]
        let byteCount = filter.count - 1
        if layout & cacheLocalFlag != 0 {
            let probes = Int(layout & ~cacheLocalFlag)
            guard probes >= 1 && probes <= maxProbes, byteCount % lineBytes == 0 else { return true }
            let base = line(hash, byteCount / lineBytes) &* lineBytes
            let (first, delta) = lineProbes(hash)
            var h = first
            for _ in 0..<probes {
                let bit = Int(h & 511)
                if f.load(fromByteOffset: base &+ bit >> 3, as: UInt8.self) & (1 << UInt8(bit & 7)) == 0 { return false }
                h = h &+ delta
            }
            return true
        }
        let probes = Int(layout)
        guard probes >= 1 && probes <= maxProbes else { return true }
        let bitCount = UInt32(truncatingIfNeeded: byteCount * 8)
        guard bitCount > 0 else { return true }
        var h = hash
        let delta = rotateRight(h, 17)
        for _ in 0..<probes {
            let bit = h % bitCount
            if f.load(fromByteOffset: Int(bit >> 3), as: UInt8.self) & (1 << (bit & 7)) == 0 { return false }
            h = h &+ delta
        }
        return true
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
