// YCSB's request distributions: zipfian (Gray et al., "Quickly Generating Billion-Record
// Synthetic Databases", SIGMOD 1994, as YCSB's ZipfianGenerator uses it), scrambled zipfian
// (popular items spread over the key space) and skewed-latest (workload D).
import Foundation

/// Zipfian over 0..<n with constant theta: item 0 is the most popular. The item count may
/// grow (workload D inserts), extending zeta incrementally as YCSB does.
struct ZipfianGenerator {
    static let ycsbTheta = 0.99

    let theta: Double
    private(set) var itemCount: Int
    private var zetaN: Double
    private let zeta2: Double
    private let alpha: Double
    private var eta: Double

    init(itemCount: Int, theta: Double = ZipfianGenerator.ycsbTheta) {
        precondition(itemCount > 0, "zipfian needs at least one item")
        self.theta = theta
        self.itemCount = itemCount
        zeta2 = Self.zeta(from: 0, to: 2, theta: theta, start: 0)
        zetaN = Self.zeta(from: 0, to: itemCount, theta: theta, start: 0)
        alpha = 1 / (1 - theta)
        eta = 0
        eta = computeEta()
    }

    /// Sum of 1/i^theta for i in (from, to], added to `start`.
    private static func zeta(from: Int, to: Int, theta: Double, start: Double) -> Double {
        var sum = start
        var i = from
        while i < to {
            i += 1
            sum += 1 / pow(Double(i), theta)
        }
        return sum
    }

    private func computeEta() -> Double {
        (1 - pow(2 / Double(itemCount), 1 - theta)) / (1 - zeta2 / zetaN)
    }

    /// Grows the item count (never shrinks), as YCSB does when records are inserted.
    mutating func grow(to count: Int) {
        guard count > itemCount else { return }
        zetaN = Self.zeta(from: itemCount, to: count, theta: theta, start: zetaN)
        itemCount = count
        eta = computeEta()
    }

    /// The next item in 0..<itemCount.
    mutating func next(_ rng: inout SplitMix64) -> Int {
        let u = rng.unit()
        let uz = u * zetaN
        if uz < 1 { return 0 }
        if uz < 1 + pow(0.5, theta) { return min(1, itemCount - 1) }
        let v = Int(Double(itemCount) * pow(eta * u - eta + 1, alpha))
        return min(max(v, 0), itemCount - 1)
    }
}

/// Zipfian popularity, but the popular items scattered over the key space by a hash (YCSB's
/// ScrambledZipfianGenerator; the default request distribution of workloads A, B, C, E, F).
struct ScrambledZipfianGenerator {
    private var zipfian: ZipfianGenerator

    init(itemCount: Int) { zipfian = ZipfianGenerator(itemCount: itemCount) }

    /// An item in 0..<count (count may exceed the zipfian's own range after inserts).
    mutating func next(_ rng: inout SplitMix64, count: Int) -> Int {
        Int(FNV.hash64(UInt64(zipfian.next(&rng))) % UInt64(count))
    }
}

/// Recently inserted items most popular (YCSB's SkewedLatestGenerator, workload D).
struct SkewedLatestGenerator {
    private var zipfian: ZipfianGenerator

    init(itemCount: Int) { zipfian = ZipfianGenerator(itemCount: itemCount) }

    /// An item in 0..<count, skewed toward count - 1.
    mutating func next(_ rng: inout SplitMix64, count: Int) -> Int {
        zipfian.grow(to: count)
        return count - 1 - zipfian.next(&rng)
    }
}

/// 64-bit FNV-1a over the eight bytes of a value (YCSB hashes record numbers into key names).
enum FNV {
    static func hash64(_ value: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var v = value
        for _ in 0..<8 {
            hash ^= v & 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
            v >>= 8
        }
        return hash
    }
}
