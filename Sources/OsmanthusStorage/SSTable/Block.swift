import Glibc

/// A decoded (decompressed, checksum-verified) block: entries followed by the restart array
/// (SPEC.md §7.2, `BlockBuilder`). Immutable, so one instance is shared by the block cache and any
/// number of iterators on any threads.
///
/// The bytes live in memory the block allocates and frees itself, so iterators can decode through
/// a plain pointer (no closure, no exclusivity check, no retain per entry).
/// `@unchecked Sendable`: the memory is written once in `init` and only read afterwards.
final class Block: @unchecked Sendable {
    /// The block's bytes, restart array included; `count` bytes, never mutated after init.
    let base: UnsafePointer<UInt8>
    let count: Int
    /// Where the restart array starts; entries occupy `base[0..<restartsOffset]`.
    let restartsOffset: Int
    let restartCount: Int
    /// For corruption errors: the table file and this block's offset in it.
    let file: String
    let offset: UInt64
    /// For an index block (`init(..., searchable: true)`): each restart key's first
    /// `prefixWords` × 8 user-key bytes (after `restartSkip`) as big-endian integers, zero-padded
    /// (`prefixWords` per restart), so the restart binary search mostly compares integers instead
    /// of decoding entries. Three words: the engine's keys share their first eight or more bytes
    /// (space, collection, index, a string's type byte and first letters). nil for data blocks,
    /// which have few restarts and are read far more often than searched twice.
    let restartPrefixes: UnsafeMutablePointer<UInt64>?
    static let prefixWords = 3
    /// With `restartPrefixes`: how many leading user-key bytes every restart key shares (the
    /// common prefix of the first and last, as keys are sorted), and where restart 0's key starts.
    /// The prefixes are taken after those bytes: an index block of one collection's keys shares
    /// its first nine or more bytes (space, collection and index ids), so prefixes of the first
    /// eight would all be equal and decide nothing.
    let restartSkip: Int
    let restartSkipKey: Int

    /// Validates the restart array so iteration can index it without further checks.
    convenience init(contents: [UInt8], file: String, offset: UInt64, searchable: Bool = false) throws {
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: max(contents.count, 1))
        contents.withUnsafeBufferPointer { src in
            if let source = src.baseAddress { memory.initialize(from: source, count: src.count) }
        }
        try self.init(adopting: memory, count: contents.count, file: file, offset: offset, searchable: searchable)
    }

    /// Takes ownership of `memory` (allocated with `UnsafeMutablePointer<UInt8>.allocate`, at
    /// least `count` bytes, the first `count` initialized): a block read or decompressed straight
    /// into its final place needs no copy. On a thrown error the memory is freed here.
    /// `searchable` builds `restartPrefixes` (index blocks, once when their table opens).
    init(
        adopting memory: UnsafeMutablePointer<UInt8>, count: Int, file: String, offset: UInt64,
        searchable: Bool = false
    ) throws {
        func corrupt(_ message: String) -> StorageError {
            memory.deallocate()
            return StorageError.corruption("block: \(message)", file: file, offset: offset)
        }
        func fixed32(_ at: Int) -> Int {
            Int(UInt32(littleEndian: UnsafeRawPointer(memory).loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        }
        guard count >= 4 else { throw corrupt("too short (\(count) bytes)") }
        let restarts = fixed32(count - 4)
        guard restarts <= (count - 4) / 4 else {
            throw corrupt("restart count \(restarts) does not fit in \(count) bytes")
        }
        let start = count - 4 - 4 * restarts
        if start > 0 {
            // Entries present: restart 0 must be the first entry and offsets strictly increase.
            guard restarts >= 1 else { throw corrupt("entries but no restart points") }
            var previous = -1
            for i in 0..<restarts {
                let r = fixed32(start + 4 * i)
                guard r > previous, r < start, i > 0 || r == 0 else {
                    throw corrupt("restart point \(i) (\(r)) out of order or out of range")
                }
                previous = r
            }
        }
        self.base = UnsafePointer(memory)
        self.count = count
        self.restartsOffset = start
        self.restartCount = restarts
        self.file = file
        self.offset = offset
        let made = searchable ? Self.prefixes(UnsafePointer(memory), start, restarts) : nil
        restartPrefixes = made?.prefixes
        restartSkip = made?.skip ?? 0
        restartSkipKey = made?.firstKey ?? 0
    }

    /// A block with no entries (a cursor's placeholder before it is given a real block).
    static let empty = Block()

    private init() {
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: 4)
        memory.initialize(repeating: 0, count: 4)
        base = UnsafePointer(memory)
        count = 4
        restartsOffset = 0
        restartCount = 0
        file = ""
        offset = 0
        restartPrefixes = nil
        restartSkip = 0
        restartSkipKey = 0
    }

    deinit {
        UnsafeMutablePointer(mutating: base).deallocate()
        restartPrefixes?.deallocate()
    }

    /// Each restart key's `keyPrefix` after the `skip` user-key bytes all restart keys share, and
    /// where restart 0's key starts. nil when a restart entry does not decode to a full key: the
    /// search then meets and reports it as before.
    private static func prefixes(_ base: UnsafePointer<UInt8>, _ restartsOffset: Int, _ restartCount: Int)
        -> (prefixes: UnsafeMutablePointer<UInt64>, skip: Int, firstKey: Int)?
    {
        guard restartCount > 0, restartsOffset > 0 else { return nil }
        /// Offset and length of restart `i`'s key (nil: it does not decode to a full key).
        func restartKey(_ i: Int) -> (Int, Int)? {
            var p = Int(UInt32(littleEndian: UnsafeRawPointer(base + restartsOffset).loadUnaligned(
                fromByteOffset: 4 * i, as: UInt32.self)))
            guard let header = BlockEntryHeader.decode(base, &p, end: restartsOffset), header.shared == 0,
                header.unshared >= InternalKey.trailerSize, header.unshared <= restartsOffset - p
            else { return nil }
            return (p, header.unshared)
        }
        guard let (first, firstCount) = restartKey(0), let (last, lastCount) = restartKey(restartCount - 1) else {
            return nil
        }
        var skip = 0
        let common = min(firstCount, lastCount) - InternalKey.trailerSize
        while skip < common && base[first + skip] == base[last + skip] { skip += 1 }
        // Sorted keys between the first and last share those bytes; a damaged block's need not,
        // and the search must still answer as a plain seek does: every restart key is checked.
        for i in 1..<max(restartCount - 1, 1) where skip > 0 {
            guard let (p, n) = restartKey(i) else { return nil }
            var shared = 0
            let limit = min(skip, n - InternalKey.trailerSize)
            while shared < limit && base[first + shared] == base[p + shared] { shared += 1 }
            skip = shared
        }
        let prefixes = UnsafeMutablePointer<UInt64>.allocate(capacity: restartCount * prefixWords)
        for i in 0..<restartCount {
            guard let (p, n) = restartKey(i) else {
                prefixes.deallocate()
                return nil
            }
            // Every restart key holds the `skip` shared bytes (sorted keys between the first and last).
            for w in 0..<prefixWords { prefixes[i * prefixWords + w] = keyWord(base + p + skip, n - skip, w) }
        }
        return (prefixes, skip, first)
    }

    /// The first eight user-key bytes of the internal key at `key` (`count` ≥ 8 bytes) as a
    /// big-endian integer, zero-padded when the user key is shorter. If two keys' prefixes differ
    /// their keys are ordered the same way (a zero pad sorts below any byte a longer key has
    /// there, as the shorter key does); equal prefixes decide nothing.
    @inline(__always)
    static func keyPrefix(_ key: UnsafeRawPointer, _ count: Int) -> UInt64 { keyWord(key, count, 0) }

    /// User-key bytes `8 × word ..< 8 × word + 8` of the internal key at `key` (`count` bytes)
    /// as a big-endian integer, zero-padded past the user key's end (0 when it ends before them).
    /// Compared word by word, keys whose words differ are ordered as their words are (the
    /// `keyPrefix` argument, applied to the first differing word).
    @inline(__always)
    static func keyWord(_ key: UnsafeRawPointer, _ count: Int, _ word: Int) -> UInt64 {
        let user = count &- InternalKey.trailerSize
        let start = word &* 8
        if user <= start { return 0 }
        // In bounds: the 8-byte trailer follows the user key.
        let value = UInt64(bigEndian: (key + start).loadUnaligned(as: UInt64.self))
        let n = user &- start
        if n >= 8 { return value }
        let drop = UInt64(truncatingIfNeeded: (8 &- n) &* 8)
        return (value &>> drop) &<< drop
    }

    /// Bytes the block holds in memory (what the block cache charges).
    var byteSize: Int { count }

    var isEmpty: Bool { restartsOffset == 0 }

    /// The block's bytes as an array (tests and tools).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Offset of restart point `index` (< `restartCount`, checked by the caller).
    @inline(__always)
    func restartPoint(_ index: Int) -> Int {
        // One unaligned load; `index` < `restartCount` keeps it inside the validated array.
        Int(UInt32(littleEndian: UnsafeRawPointer(base + restartsOffset).loadUnaligned(
            fromByteOffset: 4 &* index, as: UInt32.self)))
    }

    func makeIterator() -> BlockIterator { BlockIterator(self) }

    func corruption(_ message: String, at entry: Int) -> StorageError {
        StorageError.corruption(
            "block entry at \(entry): \(message)", file: file, offset: offset)
    }
}

/// Compares two internal keys held in raw memory (same order as `InternalKey.compare`): user keys
/// bytewise, then the packed sequence/kind trailer descending. Both counts must be ≥ 8.
///
/// The user keys are compared eight bytes at a time as big-endian integers, the last partial word
/// included: every user-key byte is followed by the key's 8-byte trailer, so a word loaded at any
/// user-key offset stays inside the key, and the bytes past the user key are shifted out. A short
/// key (an index separator) then costs one load per side instead of a byte loop.
@inline(__always)
func compareInternalKeys(
    _ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer, _ bCount: Int
) -> Int {
    var common = 0
    return compareInternalKeys(a, aCount, b, bCount, commonUserPrefix: &common)
}

/// `compareInternalKeys`, also telling how many leading user-key bytes the two keys share
/// (`commonUserPrefix`, at most the shorter user key's length).
@inline(__always)
func compareInternalKeys(
    _ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer, _ bCount: Int, commonUserPrefix: inout Int
) -> Int {
    let aUser = aCount &- InternalKey.trailerSize
    let bUser = bCount &- InternalKey.trailerSize
    let n = min(aUser, bUser)
    var i = 0
    while i < n {
        var x = UInt64(bigEndian: a.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        var y = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        let left = n &- i
        if left < 8 {
            // Keep the first `left` bytes (the high ones once big-endian).
            let drop = UInt64(truncatingIfNeeded: (8 &- left) &* 8)
            x &>>= drop
            y &>>= drop
            x &<<= drop
            y &<<= drop
        }
        if x != y {
            commonUserPrefix = i &+ (x ^ y).leadingZeroBitCount &>> 3
            return x < y ? -1 : 1
        }
        i &+= 8
    }
    commonUserPrefix = n
    if aUser != bUser { return aUser < bUser ? -1 : 1 }
    let ta = UInt64(littleEndian: a.loadUnaligned(fromByteOffset: aUser, as: UInt64.self))
    let tb = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: bUser, as: UInt64.self))
    return ta > tb ? -1 : (ta < tb ? 1 : 0)
}
