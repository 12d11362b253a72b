import Synchronization

/// The live tables of every level at one moment. Immutable: a flush or compaction makes a new
/// version from the current one and an edit. Readers hold the version they started with, which
/// keeps its files from being deleted (see `DB.deleteObsoleteFiles`).
///
/// L0 tables may overlap and are kept newest first (highest file number first). Tables of L1 and
/// deeper never overlap and are sorted by smallest key; a user key lives in at most one table per
/// level (compaction cuts tables at user-key boundaries).
final class Version: Sendable {
    let levels: [[FileMetadata]]
    /// `openTables[level][i]` is `levels[level][i]`'s open table once a point read has needed it:
    /// later probes take an uncontended per-file lock instead of the table cache's shared lock and
    /// hashed lookup. (`AtomicLazyReference.load` would be lock-free but is an opaque library call
    /// costing more than this lock.)
    private let openTables: [[TableSlot]]

    init(levels: [[FileMetadata]]) {
        precondition(levels.count == Limits.numberOfLevels)
        self.levels = levels
        openTables = levels.map { $0.map { _ in TableSlot() } }
    }

    /// One file's table once opened.
    private final class TableSlot: Sendable {
        /// Guards the table reference, set once.
        let table = Mutex<Table?>(nil)
    }

    static let empty = Version(levels: Array(repeating: [], count: Limits.numberOfLevels))

    func size(ofLevel level: Int) -> UInt64 { levels[level].reduce(0) { $0 + $1.size } }
    var totalSize: UInt64 { levels.reduce(0) { $0 + $1.reduce(0) { $0 + $1.size } } }
    var allFileNumbers: [UInt64] { levels.flatMap { $0.map(\.number) } }

    /// Applies an edit's deletions and additions. Throws `.corruption` when the result would be
    /// inconsistent (a deleted file that is not there, overlapping tables in L1+), which only a
    /// damaged manifest can cause.
    func applying(_ edit: VersionEdit, manifest: String = "") throws -> Version {
        var result = levels
        for (level, number) in edit.deletedFiles {
            guard let i = result[level].firstIndex(where: { $0.number == number }) else {
                throw StorageError.corruption(
                    "version edit deletes table \(number) which is not in level \(level)",
                    file: manifest, offset: nil)
            }
            result[level].remove(at: i)
        }
        for (level, file) in edit.newFiles {
            result[level].append(file)
        }
        result[0].sort { $0.number > $1.number }
        for level in 1..<result.count {
            result[level].sort { InternalKey.compare($0.smallest, $1.smallest) < 0 }
            for i in result[level].indices.dropFirst() {
                let prev = result[level][i - 1]
                let cur = result[level][i]
                if compareBytes(InternalKey.userKey(prev.largest), InternalKey.userKey(cur.smallest)) >= 0 {
                    throw StorageError.corruption(
                        "tables \(prev.number) and \(cur.number) overlap in level \(level)",
                        file: manifest, offset: nil)
                }
            }
        }
        return Version(levels: result)
    }

    /// Index of the first table in sorted level `level` whose largest key is ≥ `internalKey`.
    func findFile(level: Int, _ internalKey: [UInt8]) -> Int {
        let files = levels[level]
        var lo = 0
        var hi = files.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if InternalKey.compare(files[mid].largest, internalKey) < 0 { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The newest version of the lookup key's user key in the tables, at the lookup key's
    /// sequence.
    func get(_ lookupKey: [UInt8], tables: TableCache) throws -> MemTable.LookupResult {
        try lookupKey.withUnsafeBytes { lookup in
            let user = UnsafeRawBufferPointer(rebasing: lookup[..<(lookup.count - InternalKey.trailerSize)])
            return try Self.lookupResult(withValue(user, lookupKey: lookup, tables: tables) { Array($0) })
        }
    }

    /// The newest version of `userKey` in the tables at `sequence`.
    func get(_ userKey: [UInt8], sequence: SequenceNumber, tables: TableCache) throws -> MemTable.LookupResult {
        try userKey.withUnsafeBytes { user in
            try Self.lookupResult(withValue(user, sequence: sequence, tables: tables) { Array($0) })
        }
    }

    private static func lookupResult(_ read: PointRead<[UInt8]>) -> MemTable.LookupResult {
        switch read {
        case .found(let value): .found(value)
        case .deleted: .deleted
        case .absent: .absent
        }
    }

    /// A point read's answer, with what the caller's closure made of the value.
    enum PointRead<R> {
        case found(R)
        case deleted
        case absent
    }

    /// Calls `body` with the value of the newest version of `userKey` in the tables at
    /// `sequence`, lent from the block that holds it only for the call. The lookup key is built
    /// on the stack: a point read allocates nothing for it.
    func withValue<R>(
        _ userKey: UnsafeRawBufferPointer, sequence: SequenceNumber, tables: TableCache,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> PointRead<R> {
        let count = userKey.count + InternalKey.trailerSize
        return try withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { buffer in
            if let source = userKey.baseAddress, let target = buffer.baseAddress {
                target.copyMemory(from: source, byteCount: userKey.count)
            }
            buffer.storeBytes(
                of: InternalKey.packTrailer(sequence, .value).littleEndian, toByteOffset: userKey.count, as: UInt64.self)
            return try withValue(userKey, lookupKey: UnsafeRawBufferPointer(buffer), tables: tables, body)
        }
    }

    /// `withValue` with the lookup key in memory (`userKey` is its first bytes). Every
    /// comparison is on raw bytes: L0 tables by their user-key range, deeper levels by a binary
    /// search on their largest keys.
    private func withValue<R>(
        _ userKey: UnsafeRawBufferPointer, lookupKey: UnsafeRawBufferPointer, tables: TableCache,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> PointRead<R> {
        // Hashed once for every table's filter.
        let hash = Table.filterHash(lookupKey)
        // Through unsafe buffers: the files are borrowed where they lie, where copying each
        // `FileMetadata` out of its array would retain and release its key arrays (about a
        // thousand instructions per read over a few L0 tables).
        return try levels.withUnsafeBufferPointer { levels -> PointRead<R> in
            let found = try levels[0].withUnsafeBufferPointer { level0 -> PointRead<R>? in
                for i in 0..<level0.count {
                    guard Self.compareUser(userKey, level0[i].smallest) >= 0,
                        Self.compareUser(userKey, level0[i].largest) <= 0
                    else { continue }
                    if let r = try probe(level: 0, i, level0[i].number, lookupKey, hash, tables, body) { return r }
                }
                return nil
            }
            if let found { return found }
            for level in 1..<levels.count {
                let found = try levels[level].withUnsafeBufferPointer { files -> PointRead<R>? in
                    guard !files.isEmpty else { return nil }
                    let i = Self.findFile(files, lookupKey)
                    guard i < files.count, Self.compareUser(userKey, files[i].smallest) >= 0 else { return nil }
                    return try probe(level: level, i, files[i].number, lookupKey, hash, tables, body)
                }
                if let found { return found }
            }
            return .absent
        }
    }

    /// Bytewise order of `user` against the user key of the internal key `internalKey`.
    @inline(__always)
    private static func compareUser(_ user: UnsafeRawBufferPointer, _ internalKey: [UInt8]) -> Int {
        internalKey.withUnsafeBytes { k in
            let other = k.count - InternalKey.trailerSize
            let n = min(user.count, other)
            if n > 0, let a = user.baseAddress, let b = k.baseAddress {
                let r = compareMemory(a, b, n)
                if r != 0 { return r }
            }
            return user.count < other ? -1 : (user.count > other ? 1 : 0)
        }
    }

    /// Index of the first of the sorted `files` whose largest key is ≥ `internalKey`.
    private static func findFile(_ files: UnsafeBufferPointer<FileMetadata>, _ internalKey: UnsafeRawBufferPointer) -> Int {
        var lo = 0
        var hi = files.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            let order = files[mid].largest.withUnsafeBytes { MergingIterator.compare($0, internalKey) }
            if order < 0 { lo = mid &+ 1 } else { hi = mid }
        }
        return lo
    }

    /// The open table of `levels[level][i]`, through its slot: after the first call for a file,
    /// an uncontended per-file lock instead of the table cache's shared lock and hashed lookup.
    /// Point reads and iterators share the slots.
    @inline(__always)
    func openTable(level: Int, _ i: Int, tables: TableCache) throws -> Table {
        let slot = openTables[level][i]
        if let known = slot.table.withLock({ $0 }) { return known }
        let table = try tables.table(levels[level][i].number)  // I/O outside the lock
        return slot.table.withLock { stored in
            if let earlier = stored { return earlier }
            stored = table
            return table
        }
    }

    private func probe<R>(
        level: Int, _ i: Int, _ number: UInt64, _ lookupKey: UnsafeRawBufferPointer, _ hash: UInt32,
        _ tables: TableCache, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> PointRead<R>? {
        let table = try openTable(level: level, i, tables: tables)
        let found = try table.withEntry(lookupKey, hash: hash) { kindByte, value -> PointRead<R> in
            guard let kind = ValueKind(rawValue: kindByte) else {
                throw StorageError.corruption(
                    "bad kind byte in table \(number)", file: DBFiles.table(tables.directory, number),
                    offset: nil)
            }
            return kind == .value ? .found(try body(value)) : .deleted
        }
        return found
    }

    /// Tables of `level` whose user-key range meets [smallest, largest] (user keys).
    func overlappingFiles(level: Int, smallest: ArraySlice<UInt8>, largest: ArraySlice<UInt8>) -> [FileMetadata] {
        levels[level].filter { f in
            compareBytes(InternalKey.userKey(f.largest), smallest) >= 0
                && compareBytes(InternalKey.userKey(f.smallest), largest) <= 0
        }
    }

    /// Whether any table in levels deeper than `level` may hold `userKey` (so a tombstone at
    /// `level` must be kept).
    func keyMayExistBelow(level: Int, _ userKey: ArraySlice<UInt8>) -> Bool {
        for l in (level + 1)..<levels.count {
            for f in levels[l]
            where compareBytes(userKey, InternalKey.userKey(f.smallest)) >= 0
                && compareBytes(userKey, InternalKey.userKey(f.largest)) <= 0
            {
                return true
            }
        }
        return false
    }

    /// One iterator per L0 table and one concatenating iterator per deeper level.
    func iterators(tables: TableCache, fillCache: Bool) -> [InternalIterator] {
        iterators(tables: tables, fillCache: fillCache, lowerBound: [], upperBound: [])
    }
}
