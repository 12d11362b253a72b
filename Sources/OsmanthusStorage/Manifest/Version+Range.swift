extension Version {
    /// As `iterators(tables:fillCache:)`, but only over the tables whose user-key range meets
    /// [`lowerBound`, `upperBound`) (empty `upperBound`: unbounded above).
    ///
    /// Tables are opened through the version's slots (`openTable`), and a sorted level's tables
    /// within the bounds are found by binary search and handed over as an index range: making an
    /// iterator copies no file list.
    /// `memtables`, when given, come first (newest first): one array for every child of a
    /// database iterator.
    func iterators(
        tables: TableCache, fillCache: Bool, lowerBound: [UInt8], upperBound: [UInt8],
        memtables: (MemTable?, MemTable?) = (nil, nil)
    ) -> [InternalIterator] {
        var result: [InternalIterator] = []
        let level0 = levels[0]
        result.reserveCapacity(level0.count + levels.count + 1)
        if let mem = memtables.0 { result.append(mem.makeIterator()) }
        if let imm = memtables.1 { result.append(imm.makeIterator()) }
        for i in level0.indices where Self.file(level0[i], meets: lowerBound, upperBound) {
            do {
                result.append(try openTable(level: 0, i, tables: tables).makeTableIterator(fillCache: fillCache))
            } catch let e as StorageError {
                result.append(EmptyIterator(error: e))
            } catch {
                result.append(EmptyIterator(error: StorageError(.io, "\(error)")))
            }
        }
        for level in 1..<levels.count where !levels[level].isEmpty {
            let range = filesMeeting(level: level, lowerBound, upperBound)
            if !range.isEmpty {
                result.append(
                    LevelIterator(version: self, level: level, range: range, tables: tables, fillCache: fillCache))
            }
        }
        return result
    }

    /// The indices of sorted level `level`'s tables whose user-key range meets [lower, upper)
    /// (empty `upper`: unbounded): a contiguous run, since the tables are sorted and disjoint.
    func filesMeeting(level: Int, _ lower: [UInt8], _ upper: [UInt8]) -> Range<Int> {
        let files = levels[level]
        // First table whose largest user key is ≥ lower.
        var lo = 0
        var hi = files.count
        if !lower.isEmpty {
            while lo < hi {
                let mid = (lo &+ hi) >> 1
                if compareBytes(InternalKey.userKey(files[mid].largest), lower[...]) < 0 { lo = mid &+ 1 } else { hi = mid }
            }
        }
        let first = lo
        guard !upper.isEmpty else { return first..<files.count }
        // First table (from `first`) whose smallest user key is ≥ upper.
        hi = files.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if compareBytes(InternalKey.userKey(files[mid].smallest), upper[...]) < 0 { lo = mid &+ 1 } else { hi = mid }
        }
        return first..<lo
    }

    /// Whether the table's user keys [smallest, largest] meet [lower, upper).
    static func file(_ file: FileMetadata, meets lower: [UInt8], _ upper: [UInt8]) -> Bool {
        if compareBytes(InternalKey.userKey(file.largest), lower[...]) < 0 { return false }
        return upper.isEmpty || compareBytes(InternalKey.userKey(file.smallest), upper[...]) < 0
    }
}
