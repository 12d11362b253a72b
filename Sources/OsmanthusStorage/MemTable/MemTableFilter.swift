import Atomics

/// A bloom filter over the user keys of one memtable (RocksDB's whole-key memtable filter):
/// a point read asks it first and skips the skiplist search when it says "absent". After a
/// bulk load most keys live in tables, so most gets would otherwise search the memtable for
/// nothing. In memory only, no format (SPEC.md §9.3).
///
/// Register-blocked: a key sets `probes` bits of one 64-bit word, so an insert is one hash, one
/// load and one store, and a lookup one hash and one load (one cache line each).
///
/// Concurrency: one writer (the memtable's), readers without a lock. Words are atomics read and
/// written relaxed; bits are only ever set. A key's bits are stored before its skiplist node is
/// published, and a reader only asks for keys of sequences it learned after that publication
/// (through the monitor), so it sees them. A reader may see bits of a key still being inserted:
/// a false "maybe", which the skiplist search answers.
///
/// A struct over memory its memtable owns (`deallocate` in the memtable's deinit): the
/// skiplist keeps a copy without a reference count to touch per insert.
struct MemTableFilter {
    /// Bits set per key (`mask`).
    static let probes = 4
    /// Filter bytes per memtable byte: 1/64 (512 KiB for a 32 MiB memtable; 16 bits a key for
    /// 116-byte entries, about 1% false "maybe", far fewer for larger values).
    static let bytesPerMemtableByte = 64
    static let minBytes = 4 << 10
    static let maxBytes = 4 << 20

    private typealias Word = UnsafeAtomic<UInt64>
    private let words: UnsafeMutablePointer<Word.Storage>
    /// `words` holds `1 << wordBits` words.
    private let wordBits: Int

    /// A filter for a memtable of about `memtableBytes` (a power of two of words, zeroed).
    init(memtableBytes: Int) {
        let wanted = min(max(memtableBytes / Self.bytesPerMemtableByte, Self.minBytes), Self.maxBytes)
        var bits = 0
        while (8 << bits) < wanted { bits += 1 }
        wordBits = bits
        words = .allocate(capacity: 1 << bits)
        words.initialize(repeating: Word.Storage(0), count: 1 << bits)
    }

    /// Frees the words; the owner calls it once, when no reader or writer is left.
    func deallocate() {
        words.deinitialize(count: 1 << wordBits)
        words.deallocate()
    }

    /// Number of 64-bit words (for tests).
    var wordCount: Int { 1 << wordBits }

    /// Records a user key. The one writer only. Not inlined: in the skiplist's insert it made
    /// the search there no longer inlined, which cost more than this call.
    @inline(never)
    func add(key: UnsafeRawBufferPointer) { add(Self.hash(key)) }

    /// Records `hash` (`MemTableFilter.hash` of a user key). The one writer only.
    @inline(__always)
    func add(_ hash: UInt64) {
        let word = Word(at: words + index(hash))
        let bits = mask(hash)
        let old = word.load(ordering: .relaxed)
        if old & bits != bits { word.store(old | bits, ordering: .relaxed) }
    }

    /// False when no key with this hash was added; true when one may have been.
    @inline(__always)
    func mayContain(_ hash: UInt64) -> Bool {
        let bits = mask(hash)
        return Word(at: words + index(hash)).load(ordering: .relaxed) & bits == bits
    }

    /// The word: the hash's top bits.
    @inline(__always)
    private func index(_ hash: UInt64) -> Int {
        wordBits == 0 ? 0 : Int(truncatingIfNeeded: hash >> UInt64(64 - wordBits))
    }

    /// The bits within the word: 6 bits of the hash each, from the low end (the index uses the
    /// top `wordBits` <= 19 bits, so they do not overlap the 24 used here).
    @inline(__always)
    private func mask(_ hash: UInt64) -> UInt64 {
        (1 << (hash & 63)) | (1 << ((hash >> 6) & 63)) | (1 << ((hash >> 12) & 63)) | (1 << ((hash >> 18) & 63))
    }

    /// A 64-bit hash of a user key: 8-byte little-endian blocks folded by multiply and shift
    /// (a key's last partial block read as the 8 bytes ending the key, overlapping the block
    /// before), then one multiply-shift avalanche. Cheap on purpose: every memtable insert pays it.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let n = key.count
        guard n >= 8, let p = key.baseAddress else { return shortHash(key) }
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        let last = n &- 8
        var i = 0
        while i < last {
            h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i &+= 8
        }
        h = (h ^ UInt64(littleEndian: p.loadUnaligned(fromByteOffset: last, as: UInt64.self))) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        h = h &* 0xFF51_AFD7_ED55_8CCD
        return h ^ (h >> 32)
    }

    /// `hash` of a key under 8 bytes, read byte by byte (kept out of line: keys are rarely this short).
    @inline(never)
    static func shortHash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var tail: UInt64 = 0
        for i in 0..<key.count { tail |= UInt64(key[i]) << UInt64(8 * i) }
        var h = (0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: key.count) ^ tail) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        h = h &* 0xFF51_AFD7_ED55_8CCD
        return h ^ (h >> 32)
    }
}
