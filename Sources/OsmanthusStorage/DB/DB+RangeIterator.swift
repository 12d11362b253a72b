extension DB {
    /// An iterator for reads that stay within the user keys [`lowerBound`, `upperBound`)
    /// (empty `upperBound`: no upper limit). It merges only the memtables that hold entries and
    /// the tables whose key ranges meet the bounds, so a short lookup pays for the few tables
    /// that may hold its keys rather than every table of the database.
    ///
    /// Positions outside the bounds are not defined: keys there may be missing or show an older
    /// value. Callers seek within the bounds and stop at `upperBound` (forward) or `lowerBound`
    /// (backward).
    public func makeIterator(
        options readOptions: ReadOptions = ReadOptions(), lowerBound: [UInt8], upperBound: [UInt8]
    ) -> DBIterator {
        monitor.lock()
        let mem = state.mem
        let imm = state.imm
        let version = versions.current
        let sequence = readOptions.snapshot?.sequence ?? state.visibleSequence
        let closed = state.closed
        monitor.unlock()
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
            tables: tables, fillCache: readOptions.fillCache, lowerBound: lowerBound, upperBound: upperBound)
        return DBIterator(MergingIterator(children), sequence: sequence, pinned: [version])
    }
}
