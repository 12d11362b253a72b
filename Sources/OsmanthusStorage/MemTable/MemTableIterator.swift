/// An `InternalIterator` over a memtable's skiplist.
///
/// Holds the memtable strongly, so the arena (and every node pointer held here) outlives the
/// iterator. Moving never locks: links are read with acquire loads, so entries inserted while the
/// iterator runs are either seen whole or not at all.
final class MemTableIterator: InternalIterator {
    private let memTable: MemTable
    private let list: SkipList
    private var node: SkipList.Node?
    /// `key` is read repeatedly by merging iterators; built once per position.
    private var cachedKey: [UInt8]?

    init(_ memTable: MemTable, _ list: SkipList) {
        self.memTable = memTable
        self.list = list
    }

    var isValid: Bool { node != nil }

    var key: [UInt8] {
        if let cachedKey { return cachedKey }
        guard let node else { preconditionFailure("MemTableIterator.key read while invalid") }
        let key = Array(node.key)
        cachedKey = key
        return key
    }

    var value: [UInt8] {
        guard let node else { preconditionFailure("MemTableIterator.value read while invalid") }
        return Array(node.value)
    }

    var error: StorageError? { nil }

    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let node else { preconditionFailure("MemTableIterator.key read while invalid") }
        return try body(node.key)
    }

    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let node else { preconditionFailure("MemTableIterator.value read while invalid") }
        return try body(node.value)
    }

    /// The current key and value bytes in the arena, valid while this iterator lives.
    var keyBytes: UnsafeRawBufferPointer {
        guard let node else { preconditionFailure("MemTableIterator.key read while invalid") }
        return node.key
    }

    var valueBytes: UnsafeRawBufferPointer {
        guard let node else { preconditionFailure("MemTableIterator.value read while invalid") }
        return node.value
    }

    func seekToFirst() { move(to: list.first) }

    func seekToLast() { move(to: list.findLast()) }

    func seek(_ target: [UInt8]) {
        move(to: target.withUnsafeBytes { list.findGreaterOrEqual($0) })
    }

    func next() {
        guard let node else { preconditionFailure("MemTableIterator.next while invalid") }
        move(to: node.next(0))
    }

    /// No back links: search for the last node before the current key, as leveldb does.
    func prev() {
        guard let node else { preconditionFailure("MemTableIterator.prev while invalid") }
        move(to: list.findLessThan(node.key))
    }

    @inline(__always)
    private func move(to target: SkipList.Node?) {
        node = target
        cachedKey = nil
    }
}
