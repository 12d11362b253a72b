/// Iterates user keys and their newest values as of a sequence number, over a merged view of
/// memtables and tables (internal keys, several versions per key).
///
/// Moving forward, the internal cursor sits on the entry being shown. Moving backward, it sits
/// just before every entry of the key being shown, whose key and value are kept in `savedKey`
/// and `savedValue` (the scheme of leveldb's DBIter).
public final class DBIterator {
    private enum Direction { case forward, reverse }

    private let iter: InternalIterator
    private let sequence: SequenceNumber
    // Keeps the versions whose tables `iter` reads alive (and so undeleted).
    private let pinned: [AnyObject]
    private var direction = Direction.forward
    private var valid = false
    private var savedKey: [UInt8] = []
    private var savedValue: [UInt8] = []
    private var corruption: StorageError?

    init(_ iter: InternalIterator, sequence: SequenceNumber, pinned: [AnyObject]) {
        self.iter = iter
        self.sequence = sequence
        self.pinned = pinned
    }

    public var isValid: Bool { valid }

    public var key: [UInt8] {
        precondition(valid, "key read from an invalid iterator")
        return direction == .forward ? Array(InternalKey.userKey(iter.key)) : savedKey
    }

    public var value: [UInt8] {
        precondition(valid, "value read from an invalid iterator")
        return direction == .forward ? iter.value : savedValue
    }

    /// Damage met while iterating; check it when `isValid` turns false.
    public var error: StorageError? { corruption ?? iter.error }

    public func seekToFirst() {
        direction = .forward
        savedValue = []
        iter.seekToFirst()
        if iter.isValid { findNextUserEntry(skipping: false) } else { valid = false }
    }

    public func seekToLast() {
        direction = .reverse
        savedValue = []
        iter.seekToLast()
        findPrevUserEntry()
    }

    /// Positions at the first key ≥ `target`.
    public func seek(_ target: [UInt8]) {
        direction = .forward
        savedValue = []
        savedKey = []
        iter.seek(InternalKey.lookupKey(target, sequence))
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
                savedKey = []
                return
            }
        } else {
            savedKey = Array(InternalKey.userKey(iter.key))
            iter.next()
            if !iter.isValid {
                valid = false
                savedKey = []
                return
            }
        }
        findNextUserEntry(skipping: true)
    }

    public func prev() {
        precondition(valid)
        if direction == .forward {
            // Step back past every entry of the current key.
            savedKey = Array(InternalKey.userKey(iter.key))
            while true {
                iter.prev()
                guard iter.isValid else {
                    valid = false
                    savedKey = []
                    savedValue = []
                    return
                }
                if compareBytes(InternalKey.userKey(iter.key), savedKey[...]) < 0 { break }
            }
            direction = .reverse
        }
        findPrevUserEntry()
    }

    /// Advances to the next visible, live key; with `skipping`, keys ≤ `savedKey` are hidden.
    private func findNextUserEntry(skipping: Bool) {
        var skipping = skipping
        repeat {
            let k = iter.key
            guard let kind = checkedKind(k) else { return }
            if InternalKey.sequence(k) <= sequence {
                let userKey = InternalKey.userKey(k)
                switch kind {
                case .deletion:
                    savedKey = Array(userKey)  // hide every older entry of this key
                    skipping = true
                case .value:
                    if !(skipping && compareBytes(userKey, savedKey[...]) <= 0) {
                        valid = true
                        savedKey = []
                        return
                    }
                }
            }
            iter.next()
        } while iter.isValid
        savedKey = []
        valid = false
    }

    /// Moves back to the previous visible, live key, leaving the cursor before its entries.
    private func findPrevUserEntry() {
        var lastKind = ValueKind.deletion
        if iter.isValid {
            repeat {
                let k = iter.key
                guard let kind = checkedKind(k) else { return }
                if InternalKey.sequence(k) <= sequence {
                    let userKey = InternalKey.userKey(k)
                    if lastKind != .deletion && compareBytes(userKey, savedKey[...]) < 0 {
                        break  // savedKey is complete: this entry belongs to an earlier key
                    }
                    lastKind = kind
                    if kind == .deletion {
                        savedKey = []
                        savedValue = []
                    } else {
                        savedKey = Array(userKey)
                        savedValue = iter.value
                    }
                }
                iter.prev()
            } while iter.isValid
        }
        if lastKind == .deletion {
            valid = false
            savedKey = []
            savedValue = []
            direction = .forward
        } else {
            valid = true
        }
    }

    private func checkedKind(_ k: [UInt8]) -> ValueKind? {
        guard InternalKey.isWellFormed(k), let kind = InternalKey.kind(k) else {
            corruption = corruption ?? StorageError(.corruption, "malformed internal key in iterator")
            valid = false
            return nil
        }
        return kind
    }
}
