import Glibc

/// Merges sorted children into one sorted stream (after leveldb's `table/merger.cc`).
///
/// Entries are ordered by `InternalKey.compare`, and an internal key found in several children
/// (which only happens when the same entry is in two places) is yielded once per child, earlier
/// children first: the merge order is the pair (key, child index).
///
/// The valid children sit in a binary heap keyed by that pair (a min-heap going forward, a
/// max-heap going backward), so each step costs O(log N) comparisons; the top is the current
/// child. Every other child is parked just past the current entry in the direction of travel.
/// Switching direction re-parks all of them on the other side of the current entry first.
///
/// Each child's key is looked up once per move, since the heap compares it many times. The
/// engine's own iterators lend key bytes that stay put until that iterator moves, so the heap
/// keeps a pointer to them instead of a copy; other children's keys are copied.
///
/// A child that fails ends the merge (the iterator turns invalid and `error` tells why): going
/// on without it would show entries its damaged part hides, such as an older value of a key it
/// overwrote or deleted.
public final class MergingIterator: InternalIterator {
    private enum Direction { case forward, reverse }

    /// Each child by its concrete type where it is one of the engine's (see `MergingChild`),
    /// unowned, in memory of our own: reading one costs no reference counting.
    /// The children being merged: all of them, or the subset `select` chose (in their order).
    private let children: UnsafeMutablePointer<MergingChild>
    @exclusivity(unchecked) private var childCount: Int
    /// Every child given at init, in order: what `select` chooses from.
    private let allChildren: UnsafeMutablePointer<MergingChild>
    private let totalCount: Int
    /// Keeps every child alive while `children` refers to it.
    private let owners: [AnyObject]
    /// `keys[i]` is child i's current key while child i is in the heap: raw memory (the child's
    /// own, or a copy owned here), so the heap compares keys with no reference counting or
    /// exclusivity checks.
    private let keys: UnsafeMutablePointer<KeySlot>
    /// Indices of the valid children in heap order; `heap[0]` is the current child. Raw memory
    /// of `childCount` slots, `heapCount` in use: no uniqueness or bounds checks per step.
    private let heap: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) private var heapCount = 0
    @exclusivity(unchecked) private var direction = Direction.forward

    public init(_ children: [InternalIterator]) {
        childCount = children.count
        totalCount = children.count
        self.children = .allocate(capacity: max(children.count, 1))
        allChildren = .allocate(capacity: max(children.count, 1))
        var owners: [AnyObject] = []
        owners.reserveCapacity(children.count)
        for (i, iterator) in children.enumerated() {
            let made = MergingChild.make(iterator)
            (self.children + i).initialize(to: made.child)
            (allChildren + i).initialize(to: made.child)
            owners.append(made.owner)
        }
        self.owners = owners
        keys = .allocate(capacity: max(children.count, 1))
        keys.initialize(repeating: KeySlot(), count: max(children.count, 1))
        heap = .allocate(capacity: max(children.count, 1))
    }

    deinit {
        for i in 0..<max(totalCount, 1) { keys[i].bytes?.deallocate() }
        keys.deallocate()
        // Trivial values (unmanaged references): nothing to deinitialize.
        children.deallocate()
        allChildren.deallocate()
        heap.deallocate()
    }

    /// One child's current key: where its bytes are, plus a growable buffer for copies.
    struct KeySlot {
        /// The key's bytes: the child's own memory (borrowed) or `bytes` (copied).
        var start: UnsafeRawPointer?
        var count = 0
        /// Storage for copied keys, owned by the merging iterator.
        var bytes: UnsafeMutableRawPointer?
        var capacity = 0

        var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }

        /// Points at `source`, which must stay unchanged until the child moves.
        @inline(__always)
        mutating func borrow(_ source: UnsafeRawBufferPointer) {
            start = source.baseAddress
            count = source.count
        }

        mutating func assign(_ source: UnsafeRawBufferPointer) {
            if source.count > capacity {
                bytes?.deallocate()
                capacity = max(source.count, 2 * capacity, 32)
                bytes = .allocate(byteCount: capacity, alignment: 8)
            }
            if let base = source.baseAddress, let bytes { bytes.copyMemory(from: base, byteCount: source.count) }
            start = UnsafeRawPointer(bytes)
            count = source.count
        }
    }

    public var isValid: Bool { heapCount > 0 }

    /// Merges only the children (by their index in the init's list) for which `include` is
    /// true, in their original order, from the next positioning call on; the iterator is left
    /// unpositioned (invalid). A reused iterator (`IteratorPool`) skips the children whose keys
    /// cannot meet its new bounds this way, with no allocation.
    func select(_ include: (Int) -> Bool) {
        var n = 0
        for i in 0..<totalCount where include(i) {
            children[n] = allChildren[i]
            n += 1
        }
        childCount = n
        heapCount = 0
        direction = .forward
    }

    public var key: [UInt8] {
        precondition(isValid, "MergingIterator.key read while invalid")
        return Array(keys[heap[0]].buffer.assumingMemoryBound(to: UInt8.self))
    }

    public var value: [UInt8] {
        precondition(isValid, "MergingIterator.value read while invalid")
        return children[heap[0]].value
    }

    public func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(isValid, "MergingIterator.key read while invalid")
        return try body(keys[heap[0]].buffer)
    }

    public func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(isValid, "MergingIterator.value read while invalid")
        let current = heap[0]
        if children[current].lendsStableKeys { return try body(children[current].valueBytes) }
        return try children[current].withValue(body)
    }

    /// The current key's bytes, lent until the iterator moves (no closure: `DBIterator`'s
    /// per-entry path).
    var keyBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            precondition(isValid, "MergingIterator.key read while invalid")
            return keys[heap[0]].buffer
        }
    }

    /// The current value's bytes when the current child lends them until it moves (see
    /// `MergingChild.lendsStableKeys`); nil otherwise.
    var lentValueBytes: UnsafeRawBufferPointer? {
        @inline(__always) get {
            precondition(isValid, "MergingIterator.value read while invalid")
            let child = children[heap[0]]
            return child.lendsStableKeys ? child.valueBytes : nil
        }
    }

    /// The error of the first child (in child order) that has one.
    public var error: StorageError? {
        for i in 0..<childCount {
            if let error = children[i].error { return error }
        }
        return nil
    }

    public func seekToFirst() {
        for i in 0..<childCount { children[i].seekToFirst() }
        rebuild(.forward)
    }

    public func seekToLast() {
        for i in 0..<childCount { children[i].seekToLast() }
        rebuild(.reverse)
    }

    public func seek(_ target: [UInt8]) {
        for i in 0..<childCount { children[i].seek(target) }
        rebuild(.forward)
    }

    public func next() {
        precondition(isValid, "MergingIterator.next while invalid")
        let current = heap[0]
        guard direction == .forward else {
            // Park every other child at its first entry after (key, current).
            let key = self.key
            for index in 0..<childCount where index != current {
                let child = children[index]
                child.seek(key)
                if index < current && child.isValid && InternalKey.compare(child.key, key) == 0 {
                    child.next()
                }
            }
            children[current].next()
            rebuild(.forward)
            return
        }
        children[current].next()
        refreshTop()
    }

    public func prev() {
        precondition(isValid, "MergingIterator.prev while invalid")
        let current = heap[0]
        guard direction == .reverse else {
            // Park every other child at its last entry before (key, current).
            let key = self.key
            for index in 0..<childCount where index != current {
                let child = children[index]
                child.seek(key)
                if !child.isValid {
                    child.seekToLast()
                } else if !(index < current && InternalKey.compare(child.key, key) == 0) {
                    child.prev()
                }
            }
            children[current].prev()
            rebuild(.reverse)
            return
        }
        children[current].prev()
        refreshTop()
    }

    // MARK: Heap

    /// Whether child `a`'s entry comes before child `b`'s in the direction of travel.
    @inline(__always)
    private func precedes(_ a: Int, _ b: Int) -> Bool {
        let order = Self.compare(keys[a].buffer, keys[b].buffer)
        switch direction {
        case .forward: return order < 0 || (order == 0 && a < b)
        case .reverse: return order > 0 || (order == 0 && a > b)
        }
    }

    /// Refills the heap from every valid child after the children were repositioned.
    private func rebuild(_ newDirection: Direction) {
        direction = newDirection
        heapCount = 0
        for index in 0..<childCount where children[index].error != nil { return }
        for index in 0..<childCount {
            let child = children[index]
            if child.isValid {
                loadKey(index, child)
                heap[heapCount] = index
                heapCount += 1
            } else {
                keys[index].count = 0
            }
        }
        var parent = heapCount / 2 - 1
        while parent >= 0 {
            siftDown(parent)
            parent -= 1
        }
    }

    /// Restores the heap after the top child moved one step.
    private func refreshTop() {
        let top = heap[0]
        if children[top].isValid {
            loadKey(top, children[top])
        } else if children[top].error != nil {
            heapCount = 0
            return
        } else {
            keys[top].count = 0
            heapCount -= 1
            guard heapCount > 0 else { return }
            heap[0] = heap[heapCount]
        }
        // A lone child stays on top: no comparisons.
        if heapCount > 1 { siftDown(0) }
    }

    /// Records where child `index`'s key is: the engine's iterators lend bytes that stay valid
    /// until they move (see `MergingChild.lendsStableKeys`), others are copied.
    @inline(__always)
    private func loadKey(_ index: Int, _ child: MergingChild) {
        let slot = keys + index
        if child.lendsStableKeys {
            slot.pointee.borrow(child.keyBytes)
        } else {
            child.withKey { slot.pointee.assign($0) }
        }
    }

    /// `InternalKey.compare` on raw bytes (a key too short for a trailer compares bytewise).
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        if a.count >= InternalKey.trailerSize, b.count >= InternalKey.trailerSize, let x = a.baseAddress,
            let y = b.baseAddress
        {
            return compareInternalKeys(x, a.count, y, b.count)
        }
        let n = min(a.count, b.count)
        if n > 0, let x = a.baseAddress, let y = b.baseAddress {
            let r = compareMemory(x, y, n)
            if r != 0 { return r }
        }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }

    private func siftDown(_ start: Int) {
        var position = start
        let count = heapCount
        while true {
            let left = 2 * position + 1
            guard left < count else { return }
            let right = left + 1
            var best = left
            if right < count && precedes(heap[right], heap[left]) { best = right }
            guard precedes(heap[best], heap[position]) else { return }
            (heap[best], heap[position]) = (heap[position], heap[best])
            position = best
        }
    }
}
