/// The database as of one moment, acquired once: the memtables, the version and the sequence
/// that `DB.get` and `DB.makeIterator` each take under the DB monitor, taken together so a read
/// of many keys (an index scan and every document it points to) locks the monitor once instead
/// of once per key (SPEC.md §9.2).
///
/// It needs no registered `Snapshot`: it reads only the tables of the version it holds (tables
/// are never rewritten, and a held version keeps its files on disk) and the memtables it holds
/// (newer writes in them carry higher sequences and are skipped), exactly as one `get` or one
/// iterator does for its own duration. A view taken at a `Snapshot` reads at that snapshot's
/// sequence (the snapshot must stay live while the view is used, as for `ReadOptions`).
///
/// `@unchecked Sendable`: every stored property is immutable; memtables and versions are safe
/// to read from many threads.
public final class ReadView: @unchecked Sendable {
    // The tables and counters, not the DB: a view kept after its database is dropped must not
    // keep the DB object alive.
    private let tables: TableCache
    private let statistics: Statistics
    private let mem: MemTable
    private let imm: MemTable?
    private let version: Version
    public let sequence: SequenceNumber
    private let closed: Bool
    /// Where iterators this view's reads are done with wait for the next view's reads.
    private let pool: IteratorPool

    init(db: DB, mem: MemTable, imm: MemTable?, version: Version, sequence: SequenceNumber, closed: Bool) {
        tables = db.tables
        statistics = db.statistics
        pool = db.iteratorPool
        self.mem = mem
        self.imm = imm
        self.version = version
        self.sequence = sequence
        self.closed = closed
    }

    /// The value stored under `key` as of the view, or nil (as `DB.get`).
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        if closed { throw StorageError(.closed, "the database is closed") }
        return try Self.get(
            key, mem: mem, imm: imm, version: version, sequence: sequence, tables: tables, statistics: statistics)
    }

    /// `get` with the key in borrowed memory (no array for the key).
    public func get(bytes key: UnsafeRawBufferPointer) throws -> [UInt8]? {
        if closed { throw StorageError(.closed, "the database is closed") }
        return try Self.read(
            key, keyArray: nil, mem: mem, imm: imm, version: version, sequence: sequence, tables: tables,
            statistics: statistics, fromArray: { $0 }, { Array($0) })
    }

    /// Calls `body` with the value stored under `key` as of the view, lent only for the call;
    /// nil (and `body` not called) when there is none. A value read from a table is not copied.
    public func withValue<R>(forKey key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R)
        throws -> R?
    {
        if closed { throw StorageError(.closed, "the database is closed") }
        return try Self.read(
            key, keyArray: nil, mem: mem, imm: imm, version: version, sequence: sequence, tables: tables,
            statistics: statistics, fromArray: { try $0.withUnsafeBytes(body) }, body)
    }

    /// A point read at `sequence` from these memtables and version: the newest entry wins, a
    /// tombstone answers nil. `DB.get` and the view share it.
    static func get(
        _ key: [UInt8], mem: MemTable, imm: MemTable?, version: Version, sequence: SequenceNumber,
        tables: TableCache, statistics: Statistics
    ) throws -> [UInt8]? {
        try key.withUnsafeBytes { bytes in
            try read(
                bytes, keyArray: key, mem: mem, imm: imm, version: version, sequence: sequence, tables: tables,
                statistics: statistics, fromArray: { $0 }, { Array($0) })
        }
    }

    /// The one point read behind `get`, `get(bytes:)` and `withValue(forKey:)`: a value found in
    /// a memtable arrives as an array (`fromArray`), one found in a table is lent to `body`.
    /// `keyArray`, when the caller has it, saves the memtables' lookup a copy of the key; the
    /// memtables are not asked at all while empty (a database just opened reads only tables).
    @inline(__always)
    static func read<R>(
        _ key: UnsafeRawBufferPointer, keyArray: [UInt8]?, mem: MemTable, imm: MemTable?, version: Version,
        sequence: SequenceNumber, tables: TableCache, statistics: Statistics,
        fromArray: ([UInt8]) throws -> R, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        statistics.add(.gets)
        let memEmpty = mem.isEmpty
        if !memEmpty || !(imm?.isEmpty ?? true) {
            // Each memtable's key filter first: after a load most keys live only in tables, and
            // a "surely absent" skips the search (and the key's array).
            let hash = MemTableFilter.hash(key)
            let inMem = !memEmpty && mem.mayContain(hash: hash)
            var inImm = false
            if let imm, !imm.isEmpty { inImm = imm.mayContain(hash: hash) }
            var result = MemTable.LookupResult.absent
            if inMem || inImm {
                let userKey = keyArray ?? Array(key)
                if inMem { result = mem.get(userKey, sequence: sequence) }
                if case .absent = result, inImm, let imm { result = imm.get(userKey, sequence: sequence) }
            }
            switch result {
            case .found(let v):
                statistics.add(.bytesRead, UInt64(v.count))
                return try fromArray(v)
            case .deleted: return nil
            case .absent: break
            }
        }
        let found = try version.withValue(key, sequence: sequence, tables: tables) { value -> R in
            statistics.add(.bytesRead, UInt64(value.count))
            return try body(value)
        }
        switch found {
        case .found(let r): return r
        case .deleted, .absent: return nil
        }
    }

    /// A bounded iterator over the view (as `DB.makeIterator(options:lowerBound:upperBound:)`:
    /// only the non-empty memtables and the tables meeting [`lowerBound`, `upperBound`) are
    /// merged; callers seek and stop within the bounds).
    ///
    /// The iterator may be one an earlier view's read handed back (`recycle`), or is built so it
    /// can be (`IteratorPool`): hand it back with `recycle` when done to make the next bounded
    /// read cheap.
    public func makeIterator(lowerBound: [UInt8], upperBound: [UInt8], fillCache: Bool = true) -> DBIterator {
        if closed {
            return Self.makeIterator(
                mem: mem, imm: imm, version: version, sequence: sequence, closed: closed, tables: tables,
                statistics: statistics, fillCache: fillCache, lowerBound: lowerBound, upperBound: upperBound)
        }
        statistics.add(.iteratorsCreated)
        let liveMem = mem.isEmpty ? nil : mem
        let liveImm = imm.flatMap { $0.isEmpty ? nil : $0 }
        let iterator: DBIterator
        if let idle = pool.take(IteratorPool.Sources(version: version, mem: liveMem, imm: liveImm, fillCache: fillCache)) {
            idle.reuse(sequence: sequence)
            iterator = idle
        } else {
            // Every source, so later reads with other bounds can reuse it.
            let children = version.iterators(
                tables: tables, fillCache: fillCache, lowerBound: [], upperBound: [], memtables: (liveMem, liveImm))
            iterator = DBIterator(MergingIterator(children), sequence: sequence, pinned: version)
            iterator.poolLayout = PoolLayout(
                version: version, mem: liveMem, imm: liveImm, fillCache: fillCache,
                levels: children.compactMap { $0 as? LevelIterator })
        }
        iterator.poolLayout?.narrow(iterator.iter, lowerBound: lowerBound, upperBound: upperBound)
        return iterator
    }

    /// Hands back an iterator from `makeIterator` that the caller is done with, for a later
    /// read to reuse. The caller must not touch it again (nor may anyone else hold it).
    public func recycle(_ iterator: DBIterator) {
        pool.put(iterator)
    }

    /// The merge of the non-empty memtables and the tables meeting [`lowerBound`, `upperBound`)
    /// (empty bounds: all of them) at `sequence`. `DB.makeIterator` and the view share it.
    static func makeIterator(
        mem: MemTable, imm: MemTable?, version: Version, sequence: SequenceNumber, closed: Bool,
        tables: TableCache, statistics: Statistics, fillCache: Bool, lowerBound: [UInt8], upperBound: [UInt8]
    ) -> DBIterator {
        statistics.add(.iteratorsCreated)
        if closed {
            return DBIterator(
                MergingIterator([EmptyIterator(error: StorageError(.closed, "the database is closed"))]),
                sequence: 0, pinned: nil)
        }
        let children = version.iterators(
            tables: tables, fillCache: fillCache, lowerBound: lowerBound, upperBound: upperBound,
            memtables: (!mem.isEmpty ? mem : nil, imm.flatMap { $0.isEmpty ? nil : $0 }))
        return DBIterator(MergingIterator(children), sequence: sequence, pinned: version)
    }
}

extension DB {
    /// A view of the database now, or at `snapshot` (see `ReadView`).
    public func readView(at snapshot: Snapshot? = nil) -> ReadView {
        monitor.lock()
        let view = ReadView(
            db: self, mem: state.mem, imm: state.imm, version: versions.current,
            sequence: snapshot?.sequence ?? state.visibleSequence, closed: state.closed)
        monitor.unlock()
        return view
    }
}
