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
        return ReadView.makeIterator(
            mem: mem, imm: imm, version: version, sequence: sequence, closed: closed, tables: tables,
            statistics: statistics, fillCache: readOptions.fillCache, lowerBound: lowerBound, upperBound: upperBound)
    }
}
