// The data every engine is fed: the same keys, values and orders, derived from one seed.

/// N distinct random 16-byte keys (kept sorted, so index order is key order), a pool of
/// half-compressible 100-byte values, and a random permutation of the key indices.
///
/// Values follow db_bench's `--compression_ratio=0.5`: each is 50 random bytes followed by the
/// same 50 bytes again, so a block compressor can halve it. A value is chosen by index from a
/// 4 MiB pool, so neighbouring entries in a block differ.
///
/// `@unchecked Sendable`: immutable after `init`; the buffers are only read, by any thread.
final class BenchData: @unchecked Sendable {
    static let keySize = 16
    static let valueSize = 100
    static let poolValues = 41_943  // ~4 MiB of values

    let count: Int
    let seed: UInt64
    private let keys: UnsafeMutableRawBufferPointer
    private let values: UnsafeMutableRawBufferPointer
    /// Key indices in a random order: fillrandom writes every key exactly once in this order.
    let permutation: [Int32]

    init(count: Int, seed: UInt64) {
        precondition(count > 0 && count <= Int(Int32.max), "key count out of range")
        self.count = count
        self.seed = seed
        var rng = SplitMix64(seed: seed)

        var raw = [Key128]()
        raw.reserveCapacity(count)
        for _ in 0..<count { raw.append(Key128(high: rng.next(), low: rng.next())) }
        raw.sort()
        // Make the keys strictly increasing; a collision in 128 random bits is only theoretical.
        for i in 1..<count where raw[i] <= raw[i - 1] { raw[i] = raw[i - 1].successor }
        keys = .allocate(byteCount: count * Self.keySize, alignment: 8)
        for (i, key) in raw.enumerated() {
            keys.storeBytes(of: key.high.bigEndian, toByteOffset: i * 16, as: UInt64.self)
            keys.storeBytes(of: key.low.bigEndian, toByteOffset: i * 16 + 8, as: UInt64.self)
        }

        values = .allocate(byteCount: Self.poolValues * Self.valueSize, alignment: 8)
        let half = Self.valueSize / 2
        for v in 0..<Self.poolValues {
            let base = v * Self.valueSize
            for b in 0..<half {
                let byte = UInt8(truncatingIfNeeded: rng.next())
                values[base + b] = byte
                values[base + half + b] = byte
            }
        }

        var order = (0..<count).map { Int32($0) }
        order.shuffle(using: &rng)
        permutation = order
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// The i-th key in key order.
    func key(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: keys[i * Self.keySize..<(i + 1) * Self.keySize])
    }

    /// A value for the n-th write of a workload; `salt` varies it between workloads.
    func value(_ n: Int, salt: Int = 0) -> UnsafeRawBufferPointer {
        let v = (n &+ salt &* 7919) % Self.poolValues
        return UnsafeRawBufferPointer(
            rebasing: values[v * Self.valueSize..<(v + 1) * Self.valueSize])
    }

    /// Approximate bytes this object holds, to tell it apart from an engine's memory.
    var footprintBytes: Int { keys.count + values.count + permutation.count * 4 }
}

/// A 128-bit key as two words, for sorting quickly before it is laid out big-endian.
struct Key128: Comparable {
    var high: UInt64
    var low: UInt64

    static func < (a: Key128, b: Key128) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    var successor: Key128 {
        low == .max ? Key128(high: high &+ 1, low: 0) : Key128(high: high, low: low + 1)
    }
}
