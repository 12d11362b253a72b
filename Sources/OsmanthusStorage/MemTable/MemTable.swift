import Atomics
import Glibc

/// The in-memory sorted buffer of recent writes: internal keys in an arena skiplist.
///
/// `@unchecked Sendable` because its mutable state is shared without a lock, safely: `add` is
/// called by one thread at a time (the DB serializes writers), the skiplist publishes each node
/// with a release store after filling it and readers load links with acquire ordering, nodes are
/// never changed or freed once published, and the counters are atomics.
public final class MemTable: @unchecked Sendable {
    private let list: SkipList
    private let count = ManagedAtomic<Int>(0)
    /// Every user key inserted (deletions too), asked before a point read searches the list;
    /// the list adds each key as it links its node. Nil: no filter (`Options.memtableKeyFilter`).
    private let filter: MemTableFilter?

    /// A memtable expected to grow to about `expectedBytes` (sizes its key filter), with a key
    /// filter unless `keyFilter` is false.
    public init(expectedBytes: Int = 4 << 20, keyFilter: Bool = true) {
        filter = keyFilter ? MemTableFilter(memtableBytes: expectedBytes) : nil
        list = SkipList(filter: filter)
    }

    deinit { filter?.deallocate() }  // after the list's last use: the list goes with this memtable

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

    /// `add` from borrowed bytes (the write leader's path), the value `head ‖ value` (a spliced
    /// write batch record's comes in two pieces; `head` is empty otherwise). Only one thread at
    /// a time. `ascending`: the key is one of a run that grows with every insert (stamped
    /// change-log keys), tried right after the previous such key before searching
    /// (`SkipList.insert`).
    func insert(
        _ sequence: SequenceNumber, _ kind: ValueKind, _ key: UnsafeRawBufferPointer, head: UnsafeRawBufferPointer? = nil,
        _ value: UnsafeRawBufferPointer, ascending: Bool = false
    ) {
        if let head, !head.isEmpty {
            list.insert(
                userKey: key, trailer: InternalKey.packTrailer(sequence, kind), head: head, value: value, ascending: ascending)
        } else {
            list.insert(userKey: key, trailer: InternalKey.packTrailer(sequence, kind), value: value, ascending: ascending)
        }
        // One writer at a time: a plain store of the incremented count is enough (readers load
        // it relaxed), and saves a locked read-modify-write per entry.
        count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// Inserts every record of `batch`, record i with sequence `first + i`; returns the bytes of
    /// their keys and values. Only one thread at a time. A record spliced from the record just
    /// before it (a change record after its document, SPEC.md §5) is stored once: the spliced
    /// record is inserted first and the earlier record's node shares the tail of its value.
    /// Stamped records are inserted `ascending`.
    func insert(_ batch: WriteBatch, sequence first: SequenceNumber) -> UInt64 {
        var seq = first
        var bytes: UInt64 = 0
        guard batch.hasSplicedRecords else {
            batch.forEachRawMarkingStamped { kind, key, _, value, stamped in
                insert(seq, kind, key, value, ascending: stamped)
                seq += 1
                bytes += UInt64(key.count + value.count)
            }
            return bytes
        }
        // A value held back one record, in case the next is spliced from it.
        var held: (seq: SequenceNumber, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, stamped: Bool)?
        batch.forEachRawMarkingStamped { kind, key, head, value, stamped in
            bytes += UInt64(key.count + head.count + value.count)
            if let h = held {
                held = nil
                // Spliced from the held record: its value is those very bytes of the batch.
                if kind == .value, value.count > 0, value.baseAddress == h.value.baseAddress, value.count == h.value.count {
                    let start = list.insert(
                        userKey: key, trailer: InternalKey.packTrailer(seq, .value), head: head, value: value,
                        ascending: stamped)
                    list.insert(
                        userKey: h.key, trailer: InternalKey.packTrailer(h.seq, .value),
                        sharing: UnsafeRawBufferPointer(start: start + head.count, count: value.count), ascending: h.stamped)
                    count.store(count.load(ordering: .relaxed) &+ 2, ordering: .relaxed)
                    seq += 1
                    return
                }
                insert(h.seq, .value, h.key, h.value, ascending: h.stamped)
            }
            if kind == .value && head.isEmpty && value.count > 0 {
                held = (seq, key, value, stamped)
            } else {
                insert(seq, kind, key, head: head, value, ascending: stamped)
            }
            seq += 1
        }
        if let h = held { insert(h.seq, .value, h.key, h.value, ascending: h.stamped) }
        return bytes
    }

    public enum LookupResult: Equatable {
        case found([UInt8])
        case deleted
        case absent
    }

    /// False when no entry of the user key whose `MemTableFilter.hash` is `hash` was ever
    /// inserted (a point read can skip `get`); true when one may have been.
    @inline(__always)
    func mayContain(hash: UInt64) -> Bool { filter?.mayContain(hash) ?? true }

    /// Whether an entry of `userKey` may have been inserted (as `mayContain(hash:)`).
    public func mayContain(_ userKey: [UInt8]) -> Bool {
        userKey.withUnsafeBytes { mayContain(hash: MemTableFilter.hash($0)) }
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
                let order = compareMemory(a, b, n)
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
