/// One input of a `MergingIterator`, holding the engine's own iterators by their concrete type.
///
/// The merge calls its current child's `next`, `isValid` and `withKey` once or more per entry;
/// through `any InternalIterator` each is a witness-table call (a generic one for `withKey`, with
/// its result passed indirectly) that the optimizer cannot inline. A switch over the concrete
/// types makes them direct calls it can inline; other iterators (tests, wrappers) go through the
/// protocol as before.
enum MergingChild {
    case memory(MemTableIterator)
    case table(TableIterator)
    case level(LevelIterator)
    case other(any InternalIterator)

    init(_ iterator: any InternalIterator) {
        if let i = iterator as? TableIterator {
            self = .table(i)
        } else if let i = iterator as? LevelIterator {
            self = .level(i)
        } else if let i = iterator as? MemTableIterator {
            self = .memory(i)
        } else {
            self = .other(iterator)
        }
    }

    var iterator: any InternalIterator {
        switch self {
        case .memory(let i): i
        case .table(let i): i
        case .level(let i): i
        case .other(let i): i
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
            case .memory(let i): i.isValid
            case .table(let i): i.isValid
            case .level(let i): i.isValid
            case .other(let i): i.isValid
            }
        }
    }

    var error: StorageError? {
        switch self {
        case .memory(let i): i.error
        case .table(let i): i.error
        case .level(let i): i.error
        case .other(let i): i.error
        }
    }

    /// The current key's bytes, lent until this child moves; only for children that
    /// `lendsStableKeys` (the engine's own iterators).
    var keyBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            switch self {
            case .memory(let i): i.keyBytes
            case .table(let i): i.keyBytes
            case .level(let i): i.keyBytes
            case .other: preconditionFailure("keyBytes read from a child that does not lend keys")
            }
        }
    }

    /// The current value's bytes, lent like `keyBytes`.
    var valueBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            switch self {
            case .memory(let i): i.valueBytes
            case .table(let i): i.valueBytes
            case .level(let i): i.valueBytes
            case .other: preconditionFailure("valueBytes read from a child that does not lend values")
            }
        }
    }

    var key: [UInt8] { iterator.key }
    var value: [UInt8] { iterator.value }

    @inline(__always)
    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .memory(let i): try i.withKey(body)
        case .table(let i): try i.withKey(body)
        case .level(let i): try i.withKey(body)
        case .other(let i): try i.withKey(body)
        }
    }

    @inline(__always)
    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .memory(let i): try i.withValue(body)
        case .table(let i): try i.withValue(body)
        case .level(let i): try i.withValue(body)
        case .other(let i): try i.withValue(body)
        }
    }

    @inline(__always)
    func next() {
        switch self {
        case .memory(let i): i.next()
        case .table(let i): i.next()
        case .level(let i): i.next()
        case .other(let i): i.next()
        }
    }

    func prev() {
        switch self {
        case .memory(let i): i.prev()
        case .table(let i): i.prev()
        case .level(let i): i.prev()
        case .other(let i): i.prev()
        }
    }

    func seek(_ target: [UInt8]) {
        switch self {
        case .memory(let i): i.seek(target)
        case .table(let i): i.seek(target)
        case .level(let i): i.seek(target)
        case .other(let i): i.seek(target)
        }
    }

    func seekToFirst() {
        switch self {
        case .memory(let i): i.seekToFirst()
        case .table(let i): i.seekToFirst()
        case .level(let i): i.seekToFirst()
        case .other(let i): i.seekToFirst()
        }
    }

    func seekToLast() {
        switch self {
        case .memory(let i): i.seekToLast()
        case .table(let i): i.seekToLast()
        case .level(let i): i.seekToLast()
        case .other(let i): i.seekToLast()
        }
    }
}
