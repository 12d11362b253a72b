/// The block cache's map from (file number, block offset) to an LRU slot: an open-addressing
/// hash table with linear probing, in memory it owns.
///
/// A `Dictionary` keyed by a `Hashable` struct hashes with SipHash (a few hundred instructions
/// per lookup, ~4% of a point read); here a key is two integers, so one multiply-xor mix picks
/// the bucket and a probe compares two words. Deletion shifts the following entries back
/// (no tombstones), so lookups never scan dead buckets. At most half the buckets are used.
/// Noncopyable, so exactly one owner frees the memory.
struct BlockCacheIndex: ~Copyable {
    struct Entry {
        var fileNumber: UInt64
        var offset: UInt64
        /// The LRU slot; `Entry.emptySlot` marks an unused bucket.
        var slot: Int

        static let emptySlot = -1
    }

    private var buckets: UnsafeMutablePointer<Entry>
    /// Bucket count minus one (the count is a power of two).
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int = 8) {
        var n = 16
        while n < 2 * minimumCapacity { n *= 2 }
        buckets = Self.allocate(n)
        mask = n - 1
    }

    deinit { buckets.deallocate() }

    var bucketCount: Int { mask + 1 }

    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Entry> {
        let memory = UnsafeMutablePointer<Entry>.allocate(capacity: n)
        memory.initialize(repeating: Entry(fileNumber: 0, offset: 0, slot: Entry.emptySlot), count: n)
        return memory
    }

    /// The bucket where the probe for a key starts (Fibonacci hashing: the multiply spreads
    /// the low-entropy file number and 4 KiB-aligned offsets over the high bits kept).
    @inline(__always)
    private func home(_ fileNumber: UInt64, _ offset: UInt64) -> Int {
        var h = (fileNumber &* 0x9E37_79B9_7F4A_7C15) ^ offset
        h = h &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The slot stored for the key, or nil.
    @inline(__always)
    func find(fileNumber: UInt64, offset: UInt64) -> Int? {
        var i = home(fileNumber, offset)
        while true {
            let e = buckets[i]
            if e.slot == Entry.emptySlot { return nil }
            if e.fileNumber == fileNumber && e.offset == offset { return e.slot }
            i = (i + 1) & mask
        }
    }

    /// Stores `slot` (≥ 0) for the key, replacing any slot it had.
    mutating func set(fileNumber: UInt64, offset: UInt64, slot: Int) {
        precondition(slot >= 0, "slots are non-negative")
        if 2 * (count + 1) > bucketCount { grow() }
        var i = home(fileNumber, offset)
        while buckets[i].slot != Entry.emptySlot {
            if buckets[i].fileNumber == fileNumber && buckets[i].offset == offset {
                buckets[i].slot = slot
                return
            }
            i = (i + 1) & mask
        }
        buckets[i] = Entry(fileNumber: fileNumber, offset: offset, slot: slot)
        count += 1
    }

    /// Removes the key; returns the slot it had, or nil when it was absent.
    @discardableResult
    mutating func remove(fileNumber: UInt64, offset: UInt64) -> Int? {
        var i = home(fileNumber, offset)
        while true {
            let e = buckets[i]
            if e.slot == Entry.emptySlot { return nil }
            if e.fileNumber == fileNumber && e.offset == offset { break }
            i = (i + 1) & mask
        }
        let removed = buckets[i].slot
        // Backward-shift deletion: move each later entry of the probe run into the hole when its
        // home bucket does not lie (cyclically) after the hole, so every entry stays reachable.
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            let e = buckets[j]
            if e.slot == Entry.emptySlot { break }
            let h = home(e.fileNumber, e.offset)
            // Distance from home to j versus from hole to j: the entry may move if its home is
            // not strictly between the hole and j.
            if (j &- h) & mask >= (j &- hole) & mask {
                buckets[hole] = e
                hole = j
            }
        }
        buckets[hole].slot = Entry.emptySlot
        count -= 1
        return removed
    }

    /// Every stored entry (any order).
    func entries(where matches: (Entry) -> Bool) -> [Entry] {
        var result: [Entry] = []
        for i in 0...mask where buckets[i].slot != Entry.emptySlot && matches(buckets[i]) {
            result.append(buckets[i])
        }
        return result
    }

    private mutating func grow() {
        let old = buckets
        let oldCount = bucketCount
        buckets = Self.allocate(2 * oldCount)
        mask = 2 * oldCount - 1
        count = 0
        for i in 0..<oldCount where old[i].slot != Entry.emptySlot {
            var j = home(old[i].fileNumber, old[i].offset)
            while buckets[j].slot != Entry.emptySlot { j = (j + 1) & mask }
            buckets[j] = old[i]
            count += 1
        }
        old.deallocate()
    }
}
