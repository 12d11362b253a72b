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
        while left < right {
            // Both are restart indices (< restartCount ≤ a block's size / 4): no overflow.
            let mid = (left &+ right &+ 1) >> 1
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
            let limit = restartsOffset
            var p = restartPoint(restart)
            var keyCount = 0
            while p < limit {
                let entry = p
                guard let header = BlockEntryHeader.decode(base, &p, end: limit) else {
                    throw corruption("bad varint in entry header", at: entry)
                }
                let (shared, unshared, valueLength) = (header.shared, header.unshared, header.valueLength)
                guard shared <= keyCount else {
                    throw corruption("shares \(shared) bytes with a \(keyCount)-byte key", at: entry)
                }
                guard unshared <= limit - p, valueLength <= limit - p - unshared else {
                    throw corruption("entry runs past the end of the block", at: entry)
                }
                guard shared + unshared >= InternalKey.trailerSize else {
                    throw corruption("key of \(shared + unshared) bytes is shorter than its trailer", at: entry)
                }
                guard shared + unshared <= Self.searchKeyLimit else { return .tooLong }
                (key + shared).copyMemory(from: base + p, byteCount: unshared)
                keyCount = shared + unshared
                let valueStart = p + unshared
                if compareInternalKeys(key, keyCount, t, target.count) >= 0 {
                    return .found(
                        try body(
                            UnsafeRawBufferPointer(start: key, count: keyCount),
                            UnsafeRawBufferPointer(start: base + valueStart, count: valueLength)))
                }
                p = valueStart + valueLength
            }
            return .end
        }
        switch found {
        case .found(let r): return r
        case .end: return nil
        case .tooLong:
            let cursor = makeIterator()
            cursor.seek(Array(target))
            if let error = cursor.error { throw error }
            guard cursor.isValid else { return nil }
            return try cursor.withKey { k in try cursor.withValue { v in try body(k, v) } }
        }
    }

    private enum SearchResult<R> {
        case found(R)
        case end
        case tooLong
    }
}
