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

    init(db: DB, mem: MemTable, imm: MemTable?, version: Version, sequence: SequenceNumber, closed: Bool) {
        tables = db.tables
        statistics = db.statistics
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

    /// A point read at `sequence` from these memtables and version: the newest entry wins, a
    /// tombstone answers nil. `DB.get` and the view share it.
    static func get(
        _ key: [UInt8], mem: MemTable, imm: MemTable?, version: Version, sequence: SequenceNumber,
        tables: TableCache, statistics: Statistics
    ) throws -> [UInt8]? {
        statistics.add(.gets)
        switch mem.get(key, sequence: sequence) {
        case .found(let v):
            statistics.add(.bytesRead, UInt64(v.count))
            return v
        case .deleted: return nil
        case .absent: break
        }
        if let imm {
            switch imm.get(key, sequence: sequence) {
            case .found(let v):
                statistics.add(.bytesRead, UInt64(v.count))
                return v
            case .deleted: return nil
            case .absent: break
            }
        }
        switch try version.get(key, sequence: sequence, tables: tables) {
        case .found(let v):
            statistics.add(.bytesRead, UInt64(v.count))
            return v
        case .deleted, .absent: return nil
        }
    }

    /// A bounded iterator over the view (as `DB.makeIterator(options:lowerBound:upperBound:)`:
    /// only the non-empty memtables and the tables meeting [`lowerBound`, `upperBound`) are
    /// merged; callers seek and stop within the bounds).
    public func makeIterator(lowerBound: [UInt8], upperBound: [UInt8], fillCache: Bool = true) -> DBIterator {
        Self.makeIterator(
            mem: mem, imm: imm, version: version, sequence: sequence, closed: closed, tables: tables,
            statistics: statistics, fillCache: fillCache, lowerBound: lowerBound, upperBound: upperBound)
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
                sequence: 0, pinned: [])
        }
        var children: [InternalIterator] = []
        if !mem.isEmpty { children.append(mem.makeIterator()) }
        if let imm, !imm.isEmpty { children.append(imm.makeIterator()) }
        children += version.iterators(
            tables: tables, fillCache: fillCache, lowerBound: lowerBound, upperBound: upperBound)
        return DBIterator(MergingIterator(children), sequence: sequence, pinned: [version])
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
