/// The two-level iterator over a table: an index-block cursor picks the data block, a block
/// cursor walks inside it, and moving off either end of a data block loads its neighbour.
///
/// A read, checksum or decode failure makes the iterator invalid and is reported by `error`;
/// every later move is ignored.
final class TableIterator: InternalIterator {
    /// A `var` only for `retarget`: a level iterator moves one table iterator from table to table.
    @exclusivity(unchecked) private var table: Table
    /// `table` again, unmanaged: loading a block calls the table through it with no retain and
    /// release, which is safe as `table` holds it.
    @exclusivity(unchecked) private var unmanagedTable: Unmanaged<Table>
    private let index: BlockIterator
    private let fillCache: Bool
    /// The data-block cursor, re-targeted at each block the iterator enters. A `let`, so calls
    /// through it need no retain; `hasData` says whether it holds a block at all.
    private let data: BlockIterator
    @exclusivity(unchecked) private var hasData = false
    /// The handle `data` was loaded from, so re-seeking within one block does not reload it.
    @exclusivity(unchecked) private var dataHandle: BlockHandle?
    @exclusivity(unchecked) private var failure: StorageError?

    init(table: Table, index: BlockIterator, fillCache: Bool) {
        self.table = table
        unmanagedTable = .passUnretained(table)
        self.index = index
        self.fillCache = fillCache
        data = Block.empty.makeIterator()
    }

    var isValid: Bool { hasData && data.isValid }

    /// Points this iterator at another table (unpositioned, error cleared), keeping its
    /// cursors and their key buffers: a level iterator crossing tables allocates nothing.
    func retarget(_ newTable: Table) {
        table = newTable
        unmanagedTable = .passUnretained(newTable)
        index.reset(newTable.indexBlockForIterators)
        hasData = false
        dataHandle = nil
        failure = nil
    }

    /// The table this iterator reads.
    var currentTable: Table { table }

    var key: [UInt8] {
        precondition(isValid, "key read from an invalid table iterator")
        return data.key
    }

    var value: [UInt8] {
        precondition(isValid, "value read from an invalid table iterator")
        return data.value
    }

    var error: StorageError? { failure }

    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // After a failure `hasData` is false; the block cursor checks that it is on an entry.
        precondition(hasData, "key read from an invalid table iterator")
        return try data.withKey(body)
    }

    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(hasData, "value read from an invalid table iterator")
        return try data.withValue(body)
    }

    /// The current key and value bytes, lent until the iterator moves (see `BlockIterator`).
    var keyBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            precondition(hasData, "key read from an invalid table iterator")
            return data.keyBytes
        }
    }

    var valueBytes: UnsafeRawBufferPointer {
        @inline(__always) get {
            precondition(hasData, "value read from an invalid table iterator")
            return data.valueBytes
        }
    }

    func seekToFirst() {
        guard failure == nil else { return }
        index.seekToFirst()
        loadDataBlock()
        if hasData { data.seekToFirst() }
        skipEmptyBlocksForward()
    }

    func seekToLast() {
        guard failure == nil else { return }
        index.seekToLast()
        loadDataBlock()
        if hasData { data.seekToLast() }
        skipEmptyBlocksBackward()
    }

    func seek(_ target: [UInt8]) {
        guard failure == nil else { return }
        index.seek(target)
        loadDataBlock()
        if hasData { data.seek(target) }
        skipEmptyBlocksForward()
    }

    func next() {
        guard isValid else { return }
        data.next()
        if !data.isValid { skipEmptyBlocksForward() }
    }

    func prev() {
        guard isValid else { return }
        data.prev()
        if !data.isValid { skipEmptyBlocksBackward() }
    }

    /// Points `data` at the block the index cursor names (no block when the index is exhausted).
    private func loadDataBlock() {
        guard index.isValid else {
            if let error = index.error { fail(error) }
            hasData = false
            dataHandle = nil
            return
        }
        do {
            let handle = try unmanagedTable._withUnsafeGuaranteedRef { try $0.dataHandle(at: self.index) }
            if handle == dataHandle, hasData { return }
            data.reset(try unmanagedTable._withUnsafeGuaranteedRef {
                try $0.block(at: handle, fillCache: self.fillCache)
            })
            hasData = true
            dataHandle = handle
        } catch let error as StorageError {
            fail(error)
        } catch {
            fail(StorageError(.io, "reading \(table.path): \(error)", file: table.path))
        }
    }

    /// Moves to the first entry of following blocks while the current block is used up.
    private func skipEmptyBlocksForward() {
        while failure == nil, !(hasData && data.isValid) {
            if hasData, let error = data.error {
                fail(error)
                return
            }
            guard index.isValid else {
                hasData = false
                return
            }
            index.next()
            loadDataBlock()
            if hasData { data.seekToFirst() }
        }
    }

    /// Moves to the last entry of preceding blocks while the current block is used up.
    private func skipEmptyBlocksBackward() {
        while failure == nil, !(hasData && data.isValid) {
            if hasData, let error = data.error {
                fail(error)
                return
            }
            guard index.isValid else {
                hasData = false
                return
            }
            index.prev()
            loadDataBlock()
            if hasData { data.seekToLast() }
        }
    }

    private func fail(_ error: StorageError) {
        failure = error
        hasData = false
        dataHandle = nil
    }
}
