import OsmanthusStorage

/// The deterministic workload `osmanthus debug crash-writer` writes, and the rules a checker
/// needs to know what a database holds after it was killed (Tests/OsmanthusCrashTests).
///
/// Batch n is one `WriteBatch`:
/// - puts of `keyCount(n)` = 1 + n % 7 keys `b<n>-<i>`, values from `value(n, i, seed)`
///   (0 to ~4 KB: mostly short, every eighth or so long);
/// - when n % 11 == 0 and n ≥ 5, a delete of `b<n-5>-0` (so tombstones reach tables);
/// - a put of `last` = the decimal n.
///
/// So after batches 0…h were applied, the database holds exactly the keys of those batches minus
/// the deleted ones, and `last` = h. Anything else is a lost or half-applied batch.
enum CrashWorkload {
    static let lastKey = Array("last".utf8)

    static func keyCount(_ n: Int) -> Int { 1 + n % 7 }

    static func key(_ n: Int, _ i: Int) -> [UInt8] { Array("b\(n)-\(i)".utf8) }

    /// The batch whose key index 0 batch `n` deletes, if any.
    static func deletedBatch(by n: Int) -> Int? { n >= 5 && n % 11 == 0 ? n - 5 : nil }

    /// Whether key `b<m>-<i>` was deleted by some batch up to and including `h`.
    static func isDeleted(batch m: Int, index i: Int, through h: Int) -> Bool {
        i == 0 && m + 5 <= h && deletedBatch(by: m + 5) == m
    }

    /// A hash of (n, i, seed): SplitMix64's finalizer over their mix.
    static func hash(_ n: Int, _ i: Int, seed: UInt64) -> UInt64 {
        var z = seed &+ UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
        z = z &+ UInt64(truncatingIfNeeded: i) &* 0xD6E8_FEB8_6659_FD93
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `v<n>-<i>:` then bytes from the hash, 0–4,000 bytes in all (cheap to recompute).
    static func value(_ n: Int, _ i: Int, seed: UInt64) -> [UInt8] {
        let h = hash(n, i, seed: seed)
        let length = h % 8 == 0 ? 1000 + Int((h >> 8) % 3000) : Int((h >> 8) % 200)
        var v = Array("v\(n)-\(i):".utf8)
        v.reserveCapacity(max(length, v.count))
        var j = v.count
        while j < length {
            v.append(UInt8(truncatingIfNeeded: (h >> UInt64((j & 7) * 8)) &+ UInt64(j >> 3)))
            j += 1
        }
        return v
    }

    static func batch(_ n: Int, seed: UInt64) -> WriteBatch {
        var batch = WriteBatch()
        for i in 0..<keyCount(n) { batch.put(key(n, i), value(n, i, seed: seed)) }
        if let m = deletedBatch(by: n) { batch.delete(key(m, 0)) }
        batch.put(lastKey, Array(String(n).utf8))
        return batch
    }

    /// Small memtables and levels, so a run of a few hundred batches flushes and compacts.
    static func options() -> Options {
        var o = Options()
        o.memtableSize = 256 << 10
        o.blockSize = 2048
        o.levelBaseSize = 1 << 20
        o.targetFileSize = 256 << 10
        o.blockCacheCapacity = 1 << 20
        return o
    }
}
