/// The two-level iterator over a table: an index-block cursor picks the data block, a block
/// cursor walks inside it, and moving off either end of a data block loads its neighbour.
///
/// A read, checksum or decode failure makes the iterator invalid and is reported by `error`;
/// every later move is ignored.
final class TableIterator: InternalIterator {
    private let table: Table
    private let index: BlockIterator
    private let fillCache: Bool
    @exclusivity(unchecked) private var data: BlockIterator?
    /// A block cursor kept for reuse while `data` is nil.
    @exclusivity(unchecked) private var spare: BlockIterator?
    /// The handle `data` was loaded from, so re-seeking within one block does not reload it.
    @exclusivity(unchecked) private var dataHandle: BlockHandle?
    @exclusivity(unchecked) private var failure: StorageError?

    init(table: Table, index: BlockIterator, fillCache: Bool) {
        self.table = table
        self.index = index
        self.fillCache = fillCache
    }

    var isValid: Bool { failure == nil && data?.isValid == true }

    var key: [UInt8] {
        guard let data, isValid else { preconditionFailure("key read from an invalid table iterator") }
        return data.key
    }

    var value: [UInt8] {
        guard let data, isValid else { preconditionFailure("value read from an invalid table iterator") }
        return data.value
    }

    var error: StorageError? { failure }

    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // `data` is nil after a failure; the block cursor checks that it is on an entry.
        guard let data else { preconditionFailure("key read from an invalid table iterator") }
        return try data.withKey(body)
    }

    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // `data` is nil after a failure; the block cursor checks that it is on an entry.
        guard let data else { preconditionFailure("value read from an invalid table iterator") }
        return try data.withValue(body)
    }

    func seekToFirst() {
        guard failure == nil else { return }
        index.seekToFirst()
        loadDataBlock()
        data?.seekToFirst()
        skipEmptyBlocksForward()
    }

    func seekToLast() {
        guard failure == nil else { return }
        index.seekToLast()
        loadDataBlock()
        data?.seekToLast()
        skipEmptyBlocksBackward()
    }

    func seek(_ target: [UInt8]) {
        guard failure == nil else { return }
        index.seek(target)
        loadDataBlock()
        data?.seek(target)
        skipEmptyBlocksForward()
    }

    func next() {
        guard isValid, let data else { return }
        data.next()
        skipEmptyBlocksForward()
    }

    func prev() {
        guard isValid, let data else { return }
        data.prev()
        skipEmptyBlocksBackward()
    }

    /// Points `data` at the block the index cursor names (nil when the index is exhausted).
    private func loadDataBlock() {
        guard index.isValid else {
            if let error = index.error { fail(error) }
            if data != nil { spare = data }
            data = nil
            dataHandle = nil
            return
        }
        do {
            let handle = try table.dataHandle(at: index)
            if handle == dataHandle, data != nil { return }
            let block = try table.block(at: handle, fillCache: fillCache)
            if let cursor = data ?? spare {
                cursor.reset(block)
                data = cursor
                spare = nil
            } else {
                data = block.makeIterator()
            }
            dataHandle = handle
        } catch let error as StorageError {
            fail(error)
        } catch {
            fail(StorageError(.io, "reading \(table.path): \(error)", file: table.path))
        }
    }

    /// Moves to the first entry of following blocks while the current block is used up.
    private func skipEmptyBlocksForward() {
        while failure == nil, data?.isValid != true {
            if let error = data?.error {
                fail(error)
                return
            }
            guard index.isValid else {
                if data != nil { spare = data }
                data = nil
                return
            }
            index.next()
            loadDataBlock()
            data?.seekToFirst()
        }
    }

    /// Moves to the last entry of preceding blocks while the current block is used up.
    private func skipEmptyBlocksBackward() {
        while failure == nil, data?.isValid != true {
            if let error = data?.error {
                fail(error)
                return
            }
            guard index.isValid else {
                if data != nil { spare = data }
                data = nil
                return
            }
            index.prev()
            loadDataBlock()
            data?.seekToLast()
        }
    }

    private func fail(_ error: StorageError) {
        failure = error
        data = nil
        dataHandle = nil
    }
}
