/// Point searches straight over a block's bytes, for `Table.find`: no cursor object, no heap
/// key buffer. Entries are decoded exactly as `BlockIterator` decodes them (SPEC.md §7.2), with
/// the same corruption errors.
extension Block {
    /// Longest key the search rebuilds on the stack; a block with longer keys is searched with a
    /// `BlockIterator` instead.
    static let searchKeyLimit = 256

    /// Binary search over the restart points for the last one whose key is < `target` (0 when
    /// none is). Restart entries share nothing with their predecessor, so each key is compared
    /// where it lies. Returns the restart index, or the offset of a damaged restart entry.
    @inline(__always)
    func lastRestart(before target: UnsafeRawPointer, _ targetCount: Int) -> (index: Int, damagedAt: Int?) {
        var left = 0
        var right = restartCount - 1
        let limit = restartsOffset
        let prefixes = restartPrefixes
        // The target's words, compared with each restart key's (see `restartPrefixes`).
        var t0: UInt64 = 0
        var t1: UInt64 = 0
        var t2: UInt64 = 0
        if prefixes != nil {
            var skip = 0
            if restartSkip > 0 {
                switch skippedPrefix(target, targetCount) {
                case .belowEvery: return (0, nil)
                case .aboveEvery: return (restartCount &- 1, nil)
                case .within: skip = restartSkip
                }
            }
            t0 = Self.keyWord(target + skip, targetCount &- skip, 0)
            t1 = Self.keyWord(target + skip, targetCount &- skip, 1)
            t2 = Self.keyWord(target + skip, targetCount &- skip, 2)
        }
        while left < right {
            // Both are restart indices (< restartCount ≤ a block's size / 4): no overflow.
            let mid = (left &+ right &+ 1) >> 1
            if let prefixes {
                // The first differing word orders the keys (see `keyWord`); equal words need the key.
                let q = prefixes + mid &* Self.prefixWords
                let (a, b) = q[0] != t0 ? (q[0], t0) : q[1] != t1 ? (q[1], t1) : (q[2], t2)
                if a < b {
                    left = mid
                    continue
                }
                if a > b {
                    right = mid &- 1
                    continue
                }
            }
            let entry = restartPoint(mid)
            var p = entry
            guard let header = BlockEntryHeader.decode(base, &p, end: limit), header.shared == 0 else {
                return (left, entry)
            }
            let unshared = header.unshared
            guard unshared >= InternalKey.trailerSize, unshared <= limit &- p else { return (left, entry) }
            if compareInternalKeys(base + p, unshared, target, targetCount) < 0 {
                left = mid
            } else {
                right = mid &- 1
            }
        }
        return (left, nil)
    }

    enum SkippedPrefix {
        case belowEvery
        case aboveEvery
        /// The target holds the shared bytes: compare it past them.
        case within
    }

    /// Where `target` stands against restart keys sharing their first `restartSkip` user-key
    /// bytes: below or above every one of them when it lacks those bytes, else within (compared
    /// past them). Kept out of line so the restart search stays small enough to inline its decoding.
    @inline(never)
    func skippedPrefix(_ target: UnsafeRawPointer, _ targetCount: Int) -> SkippedPrefix {
        let skip = restartSkip
        let targetUser = targetCount &- InternalKey.trailerSize
        let n = min(skip, targetUser)
        let order = n > 0 ? compareMemory(target, UnsafeRawPointer(base + restartSkipKey), n) : 0
        if order < 0 || (order == 0 && targetUser < skip) { return .belowEvery }
        if order > 0 { return .aboveEvery }
        return .within
    }

    /// Calls `body` with the key and value of the first entry whose key is ≥ `target` (an
    /// internal key), lent only for the call; nil when every key is smaller. Throws
    /// `.corruption` when a visited entry is damaged.
    func withFirstEntry<R>(
        atOrAfter target: UnsafeRawBufferPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        precondition(target.count >= InternalKey.trailerSize, "seek target is not an internal key")
        guard restartsOffset > 0, let t = target.baseAddress else { return nil }
        let (restart, damaged) = lastRestart(before: t, target.count)
        if let damaged { throw corruption("restart entry does not decode to a full key", at: damaged) }
        let found = try withUnsafeTemporaryAllocation(byteCount: Self.searchKeyLimit, alignment: 8) {
            scratch -> SearchResult<R> in
            guard let key = scratch.baseAddress else { return .tooLong }
            let quick = try scanComparingSuffixes(restart, t, target.count, key, body)
            if case .rebuild = quick { return try scanRebuildingKeys(restart, t, target.count, key, body) }
            return quick
        }
        switch found {
        case .found(let r): return r
        case .end: return nil
        case .tooLong, .rebuild:
            let cursor = makeIterator()
            cursor.seek(Array(target))
            if let error = cursor.error { throw error }
            guard cursor.isValid else { return nil }
            return try cursor.withKey { k in try cursor.withValue { v in try body(k, v) } }
        }
    }

    /// Where `locateFirstEntry` found its entry: the key is the target's first `shared` bytes
    /// followed by the `unshared` bytes stored at `keyStart`.
    struct EntryPosition {
        var entry: Int
        var shared: Int
        var keyStart: Int
        var unshared: Int
        var valueStart: Int
        var valueLength: Int
    }

    enum LocateResult {
        case found(EntryPosition)
        /// Every key from the restart point on is smaller than the target.
        case end
        /// A key longer than `keyLimit`.
        case tooLong
        /// A case the scan does not decide; redo it rebuilding keys.
        case rebuild
    }

    /// Decodes the header of the entry at `p` (moved past it) and checks it as every scan of a
    /// block must: it shares no more than the previous key's `keyCount` bytes, its key and value
    /// end before `limit`, and its key holds a trailer.
    @inline(__always)
    func checkedEntry(
        at p: inout Int, keyCount: Int, limit: Int
    ) throws -> (shared: Int, unshared: Int, valueLength: Int) {
        let entry = p
        guard let header = BlockEntryHeader.decode(base, &p, end: limit) else {
            throw corruption("bad varint in entry header", at: entry)
        }
        let (shared, unshared, valueLength) = (header.shared, header.unshared, header.valueLength)
        guard shared <= keyCount else {
            throw corruption("shares \(shared) bytes with a \(keyCount)-byte key", at: entry)
        }
        guard unshared <= limit &- p, valueLength <= limit &- p &- unshared else {
            throw corruption("entry runs past the end of the block", at: entry)
        }
        guard shared &+ unshared >= InternalKey.trailerSize else {
            throw corruption("key of \(shared &+ unshared) bytes is shorter than its trailer", at: entry)
        }
        return (shared, unshared, valueLength)
    }

    /// The segment scan without rebuilding keys, from restart point `restart` to the first entry
    /// whose key is ≥ the target. An entry's first `shared` bytes are its predecessor's; while
    /// the predecessor is below the target, the scan knows how many user-key bytes it has in
    /// common with the target (`match`) and whether it then differs from it:
    /// - `shared > match`, predecessor differing at byte `match`: this key has the same byte
    ///   there, so it is below the target too. Skipped with no comparison.
    /// - `shared ≤ match`: this key's first `shared` bytes are the target's, so only its stored
    ///   bytes are compared, in place, with the target's rest.
    /// Nothing is copied: the answer's key is the target's first `shared` bytes then its stored
    /// bytes. Any other case (a predecessor whose user key is a prefix of the target's or equal
    /// to it, a key sharing into its trailer) answers `.rebuild`. Entries are checked as
    /// `BlockIterator` checks them, with the same errors. Shared by point reads (`withFirstEntry`)
    /// and cursor seeks (`BlockIterator.seek`).
    @inline(__always)
    func locateFirstEntry(
        from restart: Int, _ t: UnsafeRawPointer, _ targetCount: Int, keyLimit: Int
    ) throws -> LocateResult {
        let limit = restartsOffset
        var p = restartPoint(restart)
        var keyCount = 0
        var match = 0
        var differs = false
        while p < limit {
            let entry = p
            let (shared, unshared, valueLength) = try checkedEntry(at: &p, keyCount: keyCount, limit: limit)
            let count = shared &+ unshared
            guard count <= keyLimit else { return .tooLong }
            let valueStart = p &+ unshared
            if shared > match {
                // Still below the target when the predecessor differed at byte `match`, which
                // this key shares (it lies inside this key's user key).
                guard differs, count &- InternalKey.trailerSize > match else { return .rebuild }
            } else {
                // The stored bytes hold at least the trailer (a key sharing into its trailer
                // goes the slow way), so both sides end in a trailer as the comparison needs.
                guard unshared >= InternalKey.trailerSize else { return .rebuild }
                var common = 0
                let order = compareInternalKeys(
                    base + p, unshared, t + shared, targetCount &- shared, commonUserPrefix: &common)
                if order >= 0 {
                    return .found(
                        EntryPosition(
                            entry: entry, shared: shared, keyStart: p, unshared: unshared, valueStart: valueStart,
                            valueLength: valueLength))
                }
                match = shared &+ common
                differs =
                    common < unshared &- InternalKey.trailerSize
                    && common < targetCount &- InternalKey.trailerSize &- shared
            }
            keyCount = count
            p = valueStart &+ valueLength
        }
        return .end
    }

    /// `locateFirstEntry` for a point read: the found key is rebuilt in `key` and lent to `body`.
    @inline(__always)
    private func scanComparingSuffixes<R>(
        _ restart: Int, _ t: UnsafeRawPointer, _ targetCount: Int, _ key: UnsafeMutableRawPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> R
    ) throws -> SearchResult<R> {
        switch try locateFirstEntry(from: restart, t, targetCount, keyLimit: Self.searchKeyLimit) {
        case .found(let e):
            if e.shared > 0 { key.copyMemory(from: t, byteCount: e.shared) }
            (key + e.shared).copyMemory(from: base + e.keyStart, byteCount: e.unshared)
            return .found(
                try body(
                    UnsafeRawBufferPointer(start: key, count: e.shared &+ e.unshared),
                    UnsafeRawBufferPointer(start: base + e.valueStart, count: e.valueLength)))
        case .end: return .end
        case .tooLong: return .tooLong
        case .rebuild: return .rebuild
        }
    }

    /// The segment scan rebuilding each key in `key` and comparing it whole (every case).
    private func scanRebuildingKeys<R>(
        _ restart: Int, _ t: UnsafeRawPointer, _ targetCount: Int, _ key: UnsafeMutableRawPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> R
    ) throws -> SearchResult<R> {
        let limit = restartsOffset
        var p = restartPoint(restart)
        var keyCount = 0
        while p < limit {
            let (shared, unshared, valueLength) = try checkedEntry(at: &p, keyCount: keyCount, limit: limit)
            guard shared + unshared <= Self.searchKeyLimit else { return .tooLong }
            (key + shared).copyMemory(from: base + p, byteCount: unshared)
            keyCount = shared + unshared
            let valueStart = p + unshared
            if compareInternalKeys(key, keyCount, t, targetCount) >= 0 {
                return .found(
                    try body(
                        UnsafeRawBufferPointer(start: key, count: keyCount),
                        UnsafeRawBufferPointer(start: base + valueStart, count: valueLength)))
            }
            p = valueStart + valueLength
        }
        return .end
    }

    private enum SearchResult<R> {
        case found(R)
        case end
        case tooLong
        /// Only from `scanComparingSuffixes`: redo the segment rebuilding keys.
        case rebuild
    }
}
