/// A cursor over one `Block`'s entries.
///
/// Keys are rebuilt into one reused `KeyBuffer` as the cursor moves (each entry stores only the
/// bytes it does not share with its predecessor), so moving allocates nothing; the `key` array is
/// a copy, `withKey` lends the bytes in place. Damaged entries make the iterator invalid with a
/// `.corruption` `error` that names the file and block offset; it then ignores every move.
///
/// The cursor's fields skip Swift's run-time exclusivity checks (`@exclusivity(unchecked)`):
/// they are private, the iterator is not `Sendable`, and no access to them overlaps another, so
/// the checks (a thread-local lookup per access, ~15% of a scan) would buy nothing.
final class BlockIterator: InternalIterator {
    /// Keeps `base` alive.
    @exclusivity(unchecked) private var block: Block
    /// `block` again, unmanaged: `seek` calls the block through it with no retain and release
    /// (about 80 instructions a seek), which is safe as `block` holds it.
    @exclusivity(unchecked) private var unmanagedBlock: Unmanaged<Block>
    @exclusivity(unchecked) private var base: UnsafePointer<UInt8>
    /// End of the entries (start of the restart array).
    @exclusivity(unchecked) private var limit: Int
    /// Offset of the current entry; `limit` when not on an entry.
    @exclusivity(unchecked) private var current: Int
    /// Offset just past the current entry (where `next` decodes).
    @exclusivity(unchecked) private var nextOffset: Int
    /// The block's restart count, copied so a step reads no field of the block object.
    @exclusivity(unchecked) private var restartCount: Int
    /// Index of the restart segment that holds `current`.
    @exclusivity(unchecked) private var restartIndex = 0
    @exclusivity(unchecked) private var keyBuffer = KeyBuffer()
    @exclusivity(unchecked) private var valueStart = 0
    @exclusivity(unchecked) private var valueCount = 0
    private(set) var error: StorageError?

    init(_ block: Block) {
        self.block = block
        self.unmanagedBlock = .passUnretained(block)
        self.base = block.base
        self.limit = block.restartsOffset
        self.current = block.restartsOffset
        self.nextOffset = block.restartsOffset
        self.restartCount = block.restartCount
    }

    var isValid: Bool { current < limit }

    /// Points this cursor at another block (unpositioned), keeping its key buffer's storage: a
    /// table iterator moving from block to block then allocates nothing.
    func reset(_ newBlock: Block) {
        block = newBlock
        unmanagedBlock = .passUnretained(newBlock)
        base = newBlock.base
        limit = newBlock.restartsOffset
        current = limit
        nextOffset = limit
        restartIndex = 0
        restartCount = newBlock.restartCount
        error = nil
        keyBuffer.removeAll()
    }

    var key: [UInt8] {
        precondition(isValid, "key read from an invalid block iterator")
        return keyBuffer.array
    }

    var value: [UInt8] {
        precondition(isValid, "value read from an invalid block iterator")
        return Array(UnsafeBufferPointer(start: base + valueStart, count: valueCount))
    }

    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(isValid, "key read from an invalid block iterator")
        return try body(keyBuffer.bytes)
    }

    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(isValid, "value read from an invalid block iterator")
        return try body(UnsafeRawBufferPointer(start: base + valueStart, count: valueCount))
    }

    /// The current key's bytes, lent until the cursor moves: the merge's fast path (no closure).
    var keyBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            precondition(isValid, "key read from an invalid block iterator")
            return keyBuffer.bytes
        }
    }

    /// The current value's bytes in the block, lent until the cursor moves.
    var valueBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            precondition(isValid, "value read from an invalid block iterator")
            return UnsafeRawBufferPointer(start: base + valueStart, count: valueCount)
        }
    }

    /// The current value without copying it out of the block.
    func withValueBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        precondition(isValid, "value read from an invalid block iterator")
        return try body(UnsafeBufferPointer(start: base + valueStart, count: valueCount))
    }

    func seekToFirst() {
        guard error == nil, limit > 0 else { return }
        seekToRestart(0)
        parseNext()
    }

    func seekToLast() {
        guard error == nil, limit > 0 else { return }
        seekToRestart(block.restartCount - 1)
        while parseNext() && nextOffset < limit {}
    }

    func seek(_ target: [UInt8]) {
        precondition(target.count >= InternalKey.trailerSize, "seek target is not an internal key")
        target.withUnsafeBytes { t in
            guard let tBase = t.baseAddress else { return }
            seek(tBase, t.count)
        }
    }

    /// `seek` to the internal key at `t` (`count` ≥ 8 bytes). The segment is scanned in place
    /// (`Block.locateFirstEntry`): only the entry it stops at has its key rebuilt.
    func seek(_ t: UnsafeRawPointer, _ count: Int) {
        guard error == nil, limit > 0 else { return }
        // The last restart point whose key is < target: the answer is in its segment or is the
        // first entry of the next one.
        let (left, damaged) = unmanagedBlock._withUnsafeGuaranteedRef { $0.lastRestart(before: t, count) }
        if let damaged {
            fail("restart entry does not decode to a full key", at: damaged)
            return
        }
        let located: Block.LocateResult
        do {
            located = try unmanagedBlock._withUnsafeGuaranteedRef {
                try $0.locateFirstEntry(from: left, t, count, keyLimit: Int.max)
            }
        } catch {
            // Only `.corruption` errors, naming this block and the entry.
            self.error = error as? StorageError ?? block.corruption("\(error)", at: block.restartPoint(left))
            current = limit
            nextOffset = limit
            keyBuffer.removeAll()
            return
        }
        switch located {
        case .found(let e):
            keyBuffer.assign(UnsafeRawBufferPointer(start: t, count: e.shared))
            keyBuffer.append(base + e.keyStart, count: e.unshared)
            current = e.entry
            valueStart = e.valueStart
            valueCount = e.valueLength
            nextOffset = e.valueStart &+ e.valueLength
            restartIndex = left
            while restartIndex + 1 < restartCount && restartPoint(restartIndex + 1) <= e.entry {
                restartIndex += 1
            }
        case .end:
            keyBuffer.removeAll()
            restartIndex = left
            current = limit
            nextOffset = limit
        case .tooLong, .rebuild:
            scanParsing(from: left, t, count)
        }
    }

    /// `seek` rebuilding the key of every entry it passes: the fallback for the cases
    /// `Block.locateFirstEntry` leaves undecided (tests compare the two).
    func seekByParsing(_ target: [UInt8]) {
        precondition(target.count >= InternalKey.trailerSize, "seek target is not an internal key")
        guard error == nil, limit > 0 else { return }
        target.withUnsafeBytes { t in
            guard let tBase = t.baseAddress else { return }
            let (left, damaged) = block.lastRestart(before: tBase, t.count)
            if let damaged {
                fail("restart entry does not decode to a full key", at: damaged)
                return
            }
            scanParsing(from: left, tBase, t.count)
        }
    }

    private func scanParsing(from restart: Int, _ t: UnsafeRawPointer, _ count: Int) {
        seekToRestart(restart)
        while parseNext() {
            if compareInternalKeys(keyBuffer.base, keyBuffer.count, t, count) >= 0 { return }
        }
    }

    func next() {
        guard isValid else { return }
        parseNext()
    }

    func prev() {
        guard isValid else { return }
        let original = current
        // Back up to a restart point before the current entry, then walk forward to the entry
        // that ends where the current one starts.
        while block.restartPoint(restartIndex) >= original {
            if restartIndex == 0 {
                current = limit
                nextOffset = limit
                return
            }
            restartIndex -= 1
        }
        seekToRestart(restartIndex)
        repeat {
            guard parseNext() else {
                if error == nil { fail("entries do not lead back to offset \(original)", at: nextOffset) }
                return
            }
        } while nextOffset < original
        if nextOffset != original {
            fail("entries do not lead back to offset \(original)", at: current)
        }
    }

    private func seekToRestart(_ index: Int) {
        keyBuffer.removeAll()
        restartIndex = index
        nextOffset = block.restartPoint(index)
        current = limit
    }

    /// Decodes the entry at `nextOffset` into the cursor. false at the end or on damage.
    @discardableResult
    private func parseNext() -> Bool {
        let entry = nextOffset
        guard entry < limit else {
            current = limit
            nextOffset = limit
            return false
        }
        var p = entry
        guard let header = BlockEntryHeader.decode(base, &p, end: limit) else {
            fail("bad varint in entry header", at: entry)
            return false
        }
        let (shared, unshared, valueLength) = (header.shared, header.unshared, header.valueLength)
        let keyCount = keyBuffer.count
        guard shared <= keyCount else {
            fail("shares \(shared) bytes with a \(keyCount)-byte key", at: entry)
            return false
        }
        guard unshared <= limit - p, valueLength <= limit - p - unshared else {
            fail("entry runs past the end of the block", at: entry)
            return false
        }
        guard shared + unshared >= InternalKey.trailerSize else {
            fail("key of \(shared + unshared) bytes is shorter than its trailer", at: entry)
            return false
        }
        keyBuffer.truncate(to: shared)
        keyBuffer.append(base + p, count: unshared)
        current = entry
        valueStart = p + unshared
        valueCount = valueLength
        nextOffset = valueStart + valueLength
        while restartIndex + 1 < restartCount && restartPoint(restartIndex + 1) <= entry {
            restartIndex += 1
        }
        return true
    }

    /// `Block.restartPoint` read through this cursor's own `base` and `limit` (the restart array
    /// starts at `limit`).
    @inline(__always)
    private func restartPoint(_ index: Int) -> Int {
        Int(UInt32(littleEndian: UnsafeRawPointer(base + limit).loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
    }

    private func fail(_ message: String, at entry: Int) {
        error = block.corruption(message, at: entry)
        current = limit
        nextOffset = limit
        keyBuffer.removeAll()
    }
}
