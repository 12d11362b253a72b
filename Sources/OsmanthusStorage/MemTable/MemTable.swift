import Atomics
import Glibc

/// The in-memory sorted buffer of recent writes: internal keys in an arena skiplist.
///
/// `@unchecked Sendable` because its mutable state is shared without a lock, safely: `add` is
/// called by one thread at a time (the DB serializes writers), the skiplist publishes each node
/// with a release store after filling it and readers load links with acquire ordering, nodes are
/// never changed or freed once published, and the counters are atomics.
public final class MemTable: @unchecked Sendable {
    private let list = SkipList()
    private let count = ManagedAtomic<Int>(0)

    public init() {}

    /// Only one thread may call add at a time; readers may run concurrently.
    public func add(_ sequence: SequenceNumber, _ kind: ValueKind, _ key: [UInt8], _ value: [UInt8]) {
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in insert(sequence, kind, k, v) }
        }
    }

    /// Only one thread may call add at a time; readers may run concurrently.
    public func add(
        _ sequence: SequenceNumber, _ kind: ValueKind, _ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>
    ) {
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in insert(sequence, kind, k, v) }
        }
    }

    /// `add` from borrowed bytes (the write leader's path). Only one thread at a time.
    /// `ascending`: the key is one of a run that grows with every insert (stamped change-log
    /// keys), tried right after the previous such key before searching (`SkipList.insert`).
    func insert(
        _ sequence: SequenceNumber, _ kind: ValueKind, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
        ascending: Bool = false
    ) {
        list.insert(userKey: key, trailer: InternalKey.packTrailer(sequence, kind), value: value, ascending: ascending)
        // One writer at a time: a plain store of the incremented count is enough (readers load
        // it relaxed), and saves a locked read-modify-write per entry.
        count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    public enum LookupResult: Equatable {
        case found([UInt8])
        case deleted
        case absent
    }

    /// The newest version of userKey with sequence <= `sequence`.
    public func get(_ userKey: [UInt8], sequence: SequenceNumber) -> LookupResult {
        guard let first = list.first else { return .absent }
        // Below the smallest key: absent, without a search. Keys written in increasing order
        // (ObjectId `_id`s, the change log) leave every older key below a newer memtable's.
        // Exact for any reader: a key its sequence sees was linked before it loaded `first`,
        // and later inserts only lower `first`.
        if Self.userKey(userKey, precedes: first.key) { return .absent }
        let trailer = InternalKey.packTrailer(sequence, .value)
        let targetLength = userKey.count + InternalKey.trailerSize
        // The lookup key is built on the stack: reads should not allocate for it.
        let found = withUnsafeTemporaryAllocation(byteCount: targetLength, alignment: 8) { target in
            userKey.withUnsafeBytes { target.copyMemory(from: $0) }
            target.storeBytes(of: trailer.littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            return list.findGreaterOrEqual(UnsafeRawBufferPointer(target))
        }
        guard let node = found else { return .absent }
        let key = node.key
        let userLength = key.count - InternalKey.trailerSize
        guard userLength == userKey.count else { return .absent }
        let sameUserKey = userKey.withUnsafeBytes { mine in
            guard userLength > 0, let a = mine.baseAddress, let b = key.baseAddress else { return true }
            return memcmp(a, b, userLength) == 0
        }
        guard sameUserKey else { return .absent }
        let kindByte = key.load(fromByteOffset: userLength, as: UInt8.self)
        return kindByte == ValueKind.deletion.rawValue ? .deleted : .found(Array(node.value))
    }

    /// Whether `userKey` sorts before the user key of the internal key `internalKey`.
    @inline(__always)
    private static func userKey(_ userKey: [UInt8], precedes internalKey: UnsafeRawBufferPointer) -> Bool {
        let other = internalKey.count - InternalKey.trailerSize
        return userKey.withUnsafeBytes { mine in
            let n = min(mine.count, other)
            if n > 0, let a = mine.baseAddress, let b = internalKey.baseAddress {
                let order = memcmp(a, b, n)
                if order != 0 { return order < 0 }
            }
            return mine.count < other
        }
    }

    /// Bytes of arena allocated.
    public var approximateMemoryUsage: Int { list.memoryUsage }

    public var entryCount: Int { count.load(ordering: .relaxed) }

    public var isEmpty: Bool { list.first == nil }

    /// Iterates internal keys in order; keeps the memtable alive; sees a consistent prefix of
    /// concurrent inserts (never a torn node).
    public func makeIterator() -> InternalIterator {
        MemTableIterator(self, list)
    }
}
