/// One input of a `MergingIterator`, holding the engine's own iterators by their concrete type.
///
/// The merge calls its current child's `next`, `isValid` and `keyBytes` once or more per entry;
/// through `any InternalIterator` each is a witness-table call (a generic one for `withKey`, with
/// its result passed indirectly) that the optimizer cannot inline. A switch over the concrete
/// types makes them direct calls it can inline; other iterators (tests, wrappers) go through the
/// protocol as before, inside a box.
///
/// The references are unowned (`Unmanaged`): the merging iterator keeps every child alive in its
/// `owners` array for its whole life, so reading a child out of the merge's buffer and calling it
/// costs no retain and release (about a tenth of a step before).
enum MergingChild {
    case memory(Unmanaged<MemTableIterator>)
    case table(Unmanaged<TableIterator>)
    case level(Unmanaged<LevelIterator>)
    case other(Unmanaged<Box>)

    /// Holds an iterator of another type (its existential cannot be unmanaged itself).
    final class Box {
        let iterator: any InternalIterator
        init(_ iterator: any InternalIterator) { self.iterator = iterator }
    }

    /// The child for `iterator` and the object the caller must keep alive as long as it is used.
    static func make(_ iterator: any InternalIterator) -> (child: MergingChild, owner: AnyObject) {
        if let i = iterator as? TableIterator { return (.table(.passUnretained(i)), i) }
        if let i = iterator as? LevelIterator { return (.level(.passUnretained(i)), i) }
        if let i = iterator as? MemTableIterator { return (.memory(.passUnretained(i)), i) }
        let box = Box(iterator)
        return (.other(.passUnretained(box)), box)
    }

    var iterator: any InternalIterator {
        switch self {
        case .memory(let i): i.takeUnretainedValue()
        case .table(let i): i.takeUnretainedValue()
        case .level(let i): i.takeUnretainedValue()
        case .other(let b): b.takeUnretainedValue().iterator
        }
    }

    /// Whether the bytes `withKey` lends stay valid and unchanged until this child moves (not
    /// just inside the closure): true for the engine's iterators, whose key lives in a memtable
    /// node or in a block cursor's `KeyBuffer`, which only a move rewrites. The merge then keeps
    /// a pointer to the key instead of copying it.
    var lendsStableKeys: Bool {
        @inline(__always) get {
            if case .other = self { return false }
            return true
        }
    }

    var isValid: Bool {
        @inline(__always) get {
            switch self {
            case .memory(let i): i._withUnsafeGuaranteedRef { $0.isValid }
            case .table(let i): i._withUnsafeGuaranteedRef { $0.isValid }
            case .level(let i): i._withUnsafeGuaranteedRef { $0.isValid }
            case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.isValid }
            }
        }
    }

    var error: StorageError? {
        switch self {
        case .memory(let i): i._withUnsafeGuaranteedRef { $0.error }
        case .table(let i): i._withUnsafeGuaranteedRef { $0.error }
        case .level(let i): i._withUnsafeGuaranteedRef { $0.error }
        case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.error }
        }
    }

    /// The current key's bytes, lent until this child moves; only for children that
    /// `lendsStableKeys` (the engine's own iterators).
    var keyBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            switch self {
            case .memory(let i): i._withUnsafeGuaranteedRef { $0.keyBytes }
            case .table(let i): i._withUnsafeGuaranteedRef { $0.keyBytes }
            case .level(let i): i._withUnsafeGuaranteedRef { $0.keyBytes }
            case .other: preconditionFailure("keyBytes read from a child that does not lend keys")
            }
        }
    }

    /// The current value's bytes, lent like `keyBytes`.
    var valueBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            switch self {
            case .memory(let i): i._withUnsafeGuaranteedRef { $0.valueBytes }
            case .table(let i): i._withUnsafeGuaranteedRef { $0.valueBytes }
            case .level(let i): i._withUnsafeGuaranteedRef { $0.valueBytes }
            case .other: preconditionFailure("valueBytes read from a child that does not lend values")
            }
        }
    }

    var key: [UInt8] { iterator.key }
    var value: [UInt8] { iterator.value }

    @inline(__always)
    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .memory(let i): try i._withUnsafeGuaranteedRef { try $0.withKey(body) }
        case .table(let i): try i._withUnsafeGuaranteedRef { try $0.withKey(body) }
        case .level(let i): try i._withUnsafeGuaranteedRef { try $0.withKey(body) }
        case .other(let b): try b._withUnsafeGuaranteedRef { try $0.iterator.withKey(body) }
        }
    }

    @inline(__always)
    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .memory(let i): try i._withUnsafeGuaranteedRef { try $0.withValue(body) }
        case .table(let i): try i._withUnsafeGuaranteedRef { try $0.withValue(body) }
        case .level(let i): try i._withUnsafeGuaranteedRef { try $0.withValue(body) }
        case .other(let b): try b._withUnsafeGuaranteedRef { try $0.iterator.withValue(body) }
        }
    }

    @inline(__always)
    func next() {
        switch self {
        case .memory(let i): i._withUnsafeGuaranteedRef { $0.next() }
        case .table(let i): i._withUnsafeGuaranteedRef { $0.next() }
        case .level(let i): i._withUnsafeGuaranteedRef { $0.next() }
        case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.next() }
        }
    }

    func prev() {
        switch self {
        case .memory(let i): i._withUnsafeGuaranteedRef { $0.prev() }
        case .table(let i): i._withUnsafeGuaranteedRef { $0.prev() }
        case .level(let i): i._withUnsafeGuaranteedRef { $0.prev() }
        case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.prev() }
        }
    }

    func seek(_ target: [UInt8]) {
        switch self {
        case .memory(let i): i._withUnsafeGuaranteedRef { $0.seek(target) }
        case .table(let i): i._withUnsafeGuaranteedRef { $0.seek(target) }
        case .level(let i): i._withUnsafeGuaranteedRef { $0.seek(target) }
        case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.seek(target) }
        }
    }

    func seekToFirst() {
        switch self {
        case .memory(let i): i._withUnsafeGuaranteedRef { $0.seekToFirst() }
        case .table(let i): i._withUnsafeGuaranteedRef { $0.seekToFirst() }
        case .level(let i): i._withUnsafeGuaranteedRef { $0.seekToFirst() }
        case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.seekToFirst() }
        }
    }

    func seekToLast() {
        switch self {
        case .memory(let i): i._withUnsafeGuaranteedRef { $0.seekToLast() }
        case .table(let i): i._withUnsafeGuaranteedRef { $0.seekToLast() }
        case .level(let i): i._withUnsafeGuaranteedRef { $0.seekToLast() }
        case .other(let b): b._withUnsafeGuaranteedRef { $0.iterator.seekToLast() }
        }
    }
}
