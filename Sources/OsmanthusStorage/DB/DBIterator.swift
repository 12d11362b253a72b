import Glibc

/// Iterates user keys and their newest values as of a sequence number, over a merged view of
/// memtables and tables (internal keys, several versions per key).
///
/// Moving forward, the internal cursor sits on the entry being shown. Moving backward, it sits
/// just before every entry of the key being shown, whose key and value are kept in `savedKey`
/// and `savedValue` (the scheme of leveldb's DBIter).
public final class DBIterator {
    private enum Direction { case forward, reverse }

    /// Concrete, so every move and key read is a direct call.
    let iter: MergingIterator
    /// A `var` only for `reuse(sequence:)` (a pooled iterator serves another read view).
    @exclusivity(unchecked) private var sequence: SequenceNumber
    // Keeps the version whose tables `iter` reads alive (and so undeleted).
    private let pinned: Version?
    @exclusivity(unchecked) private var direction = Direction.forward
    @exclusivity(unchecked) private var valid = false
    /// A `KeyBuffer`, so saving and comparing the user key on every step costs no array
    /// uniqueness checks or copy-on-write.
    @exclusivity(unchecked) private var savedKey = KeyBuffer()
    /// A `KeyBuffer` too, so a backward step copies the value without allocating and
    /// `withValue` can lend its bytes.
    @exclusivity(unchecked) private var savedValue = KeyBuffer()
    /// Reused for every `seek`'s internal lookup key.
    @exclusivity(unchecked) private var seekKey: [UInt8] = []
    @exclusivity(unchecked) private var corruption: StorageError?
    /// Set on iterators a read view built for reuse (`IteratorPool`): what they merge.
    var poolLayout: PoolLayout?

    init(_ iter: MergingIterator, sequence: SequenceNumber, pinned: Version?) {
        self.iter = iter
        self.sequence = sequence
        self.pinned = pinned
    }

    public var isValid: Bool { valid }

    /// Readies an idle iterator (`IteratorPool`) for a read at `sequence`: unpositioned, no
    /// saved key or value. Only for iterators whose children show no error.
    func reuse(sequence: SequenceNumber) {
        self.sequence = sequence
        direction = .forward
        valid = false
        savedKey.removeAll()
        savedValue.removeAll()
        corruption = nil
    }

    public var key: [UInt8] {
        precondition(valid, "key read from an invalid iterator")
        return withKey { Array($0.assumingMemoryBound(to: UInt8.self)) }
    }

    public var value: [UInt8] {
        precondition(valid, "value read from an invalid iterator")
        return direction == .forward ? iter.value : savedValue.array
    }

    /// Lends the current key's bytes without copying them: they are valid only inside `body`
    /// and only until the iterator moves. Cheaper than `key`, which allocates an array.
    ///
    /// Inlinable (as is `withValue`), so a caller in another module gets it specialized for its
    /// closure: no generic call with an indirect result per entry.
    @inlinable
    public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(lentKeyBytes)
    }

    /// Lends the current value's bytes like `withKey`.
    @inlinable
    public func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let bytes = lentValueBytes { return try body(bytes) }
        return try withCopiedValue(body)
    }

    /// The current user key's bytes, valid until the iterator moves.
    @usableFromInline
    var lentKeyBytes: UnsafeRawBufferPointer {
        precondition(valid, "key read from an invalid iterator")
        if direction == .forward {
            let k = iter.keyBytes
            return UnsafeRawBufferPointer(rebasing: k[..<(k.count - InternalKey.trailerSize)])
        }
        return savedKey.bytes
    }

    /// The current value's bytes when they stay put until the iterator moves (the engine's own
    /// iterators, and a saved value going backward); nil for other merge children.
    @usableFromInline
    var lentValueBytes: UnsafeRawBufferPointer? {
        precondition(valid, "value read from an invalid iterator")
        if direction == .forward { return iter.lentValueBytes }
        return savedValue.bytes
    }

    /// `withValue` for a value that is only lent inside a closure.
    @usableFromInline
    func withCopiedValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(valid, "value read from an invalid iterator")
        return try iter.withValue(body)
    }

    /// Damage met while iterating; check it when `isValid` turns false.
    public var error: StorageError? { corruption ?? iter.error }

    public func seekToFirst() {
        direction = .forward
        savedValue.removeAll()
        iter.seekToFirst()
        if iter.isValid { findNextUserEntry(skipping: false) } else { valid = false }
    }

    public func seekToLast() {
        direction = .reverse
        savedValue.removeAll()
        iter.seekToLast()
        findPrevUserEntry()
    }

    /// Positions at the first key ≥ `target`.
    public func seek(_ target: [UInt8]) {
        target.withUnsafeBytes { seek(bytes: $0) }
    }

    /// `seek` with the target's bytes lent (no array needed; they are copied before it returns).
    public func seek(bytes target: UnsafeRawBufferPointer) {
        direction = .forward
        savedValue.removeAll()
        savedKey.removeAll()
        seekKey.removeAll(keepingCapacity: true)
        seekKey.append(contentsOf: target)
        seekKey.appendFixed64(InternalKey.packTrailer(sequence, .value))
        iter.seek(seekKey)
        if iter.isValid { findNextUserEntry(skipping: false) } else { valid = false }
    }

    /// Positions at the last key ≤ `target`.
    public func seekForPrev(_ target: [UInt8]) {
        seek(target)
        if !valid {
            seekToLast()
        } else if compareBytes(key, target) > 0 {
            prev()
        }
    }

    public func next() {
        precondition(valid)
        if direction == .reverse {
            direction = .forward
            // The cursor is before the entries of savedKey: step onto them, then past them.
            if iter.isValid { iter.next() } else { iter.seekToFirst() }
            if !iter.isValid {
                valid = false
                savedKey.removeAll()
                return
            }
        } else {
            saveCurrentUserKey()
            iter.next()
            if !iter.isValid {
                valid = false
                savedKey.removeAll()
                return
            }
        }
        findNextUserEntry(skipping: true)
    }

    public func prev() {
        precondition(valid)
        if direction == .forward {
            // Step back past every entry of the current key.
            iter.withKey { k in
                savedKey.assign(UnsafeRawBufferPointer(rebasing: k[..<(k.count - InternalKey.trailerSize)]))
            }
            while true {
                iter.prev()
                guard iter.isValid else {
                    valid = false
                    savedKey.removeAll()
                    savedValue.removeAll()
                    return
                }
                let earlier = iter.withKey { k in
                    let user = UnsafeRawBufferPointer(rebasing: k[..<(k.count - InternalKey.trailerSize)])
                    return Self.compare(user, savedKey.bytes) < 0
                }
                if earlier { break }
            }
            direction = .reverse
        }
        findPrevUserEntry()
    }

    private enum Step { case skip, show, corrupt }

    /// Advances to the next visible, live key; with `skipping`, keys ≤ `savedKey` are hidden.
    private func findNextUserEntry(skipping: Bool) {
        var skipping = skipping
        repeat {
            // Reads the entry in place: no key array per entry.
            let step = classify(iter.keyBytes, skipping: &skipping)
            switch step {
            case .show:
                valid = true
                savedKey.removeAll()
                return
            case .corrupt:
                markCorrupt()
                return
            case .skip:
                iter.next()
            }
        } while iter.isValid
        savedKey.removeAll()
        valid = false
    }

    /// What `findNextUserEntry` does with the entry whose internal key is `k`.
    @inline(__always)
    private func classify(_ k: UnsafeRawBufferPointer, skipping: inout Bool) -> Step {
        let userCount = k.count - InternalKey.trailerSize
        guard userCount >= 0, let kind = ValueKind(rawValue: k[userCount]) else { return .corrupt }
        let trailer = UInt64(littleEndian: k.loadUnaligned(fromByteOffset: userCount, as: UInt64.self))
        guard trailer >> 8 <= sequence else { return .skip }
        let userKey = UnsafeRawBufferPointer(rebasing: k[..<userCount])
        switch kind {
        case .deletion:
            // Hide every older entry of this key.
            savedKey.assign(userKey)
            skipping = true
            return .skip
        case .value:
            if skipping && Self.compare(userKey, savedKey.bytes) <= 0 { return .skip }
            return .show
        }
    }

    /// Copies the internal cursor's user key into `savedKey`, reusing its storage.
    private func saveCurrentUserKey() {
        let k = iter.keyBytes
        savedKey.assign(UnsafeRawBufferPointer(rebasing: k[..<(k.count - InternalKey.trailerSize)]))
    }

    @inline(__always)
    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let x = a.baseAddress, let y = b.baseAddress {
            let r = compareMemory(x, y, n)
            if r != 0 { return r }
        }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }

    /// Moves back to the previous visible, live key, leaving the cursor before its entries.
    /// Each entry is read in place (no key array per step, as `findNextUserEntry`).
    private func findPrevUserEntry() {
        var lastKind = ValueKind.deletion
        if iter.isValid {
            repeat {
                let k = iter.keyBytes
                let userCount = k.count - InternalKey.trailerSize
                guard userCount >= 0, let kind = ValueKind(rawValue: k[userCount]) else {
                    markCorrupt()
                    return
                }
                let trailer = UInt64(littleEndian: k.loadUnaligned(fromByteOffset: userCount, as: UInt64.self))
                if trailer >> 8 <= sequence {
                    let userKey = UnsafeRawBufferPointer(rebasing: k[..<userCount])
                    if lastKind != .deletion && Self.compare(userKey, savedKey.bytes) < 0 {
                        break  // savedKey is complete: this entry belongs to an earlier key
                    }
                    lastKind = kind
                    if kind == .deletion {
                        savedKey.removeAll()
                        savedValue.removeAll()
                    } else {
                        savedKey.assign(userKey)
                        if let value = iter.lentValueBytes {
                            savedValue.assign(value)
                        } else {
                            iter.withValue { savedValue.assign($0) }
                        }
                    }
                }
                iter.prev()
            } while iter.isValid
        }
        if lastKind == .deletion {
            valid = false
            savedKey.removeAll()
            savedValue.removeAll()
            direction = .forward
        } else {
            valid = true
        }
    }

    private func markCorrupt() {
        corruption = corruption ?? StorageError(.corruption, "malformed internal key in iterator")
        valid = false
    }
}
