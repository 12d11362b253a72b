/// Flush and compaction: two background threads, so a long compaction never holds up the
/// memtable flush that writers may be waiting on (SPEC.md §9.3).
extension DB {
    func startBackgroundThreads() {
        threads.append(BackgroundThread(name: "osm-flush") { [weak self] in self?.flushLoop() })
        threads.append(BackgroundThread(name: "osm-compact") { [weak self] in self?.compactionLoop() })
    }

    private func flushLoop() {
        monitor.lock()
        while true {
            while !state.closing && (state.imm == nil || state.backgroundError != nil) {
                backgroundChanged.wait()
            }
            if state.closing { break }
            try? flushImmutable(holdingLock: true)
        }
        monitor.unlock()
    }

    private func compactionLoop() {
        monitor.lock()
        while true {
            while !state.closing
                && (state.compactionRunning || state.backgroundError != nil
                    || pickCompaction() == nil)
            {
                backgroundChanged.wait()
            }
            if state.closing { break }
            guard let c = pickCompaction() else { continue }
            state.compactionRunning = true
            monitor.unlock()
            let result = Result { try runCompaction(c) }
            monitor.lock()
            state.compactionRunning = false
            if case .failure(let e) = result {
                state.backgroundError = state.backgroundError ?? Self.storageError(e)
            } else if c.level == 0 {
                state.compactRecoveredLevel0 = false
            }
            backgroundChanged.broadcast()
        }
        monitor.unlock()
    }

    /// The next background compaction: the picker's, else the recovered L0 tables (see
    /// `State.compactRecoveredLevel0`). Caller holds the monitor.
    func pickCompaction() -> Compaction? {
        let v = versions.current
        if let c = picker.pick(v, compactPointers: versions.compactPointers) { return c }
        guard state.compactRecoveredLevel0, v.levels[0].count >= 2 else { return nil }
        return picker.level0(v, score: 1)
    }

    static func storageError(_ error: any Error) -> StorageError {
        (error as? StorageError) ?? StorageError(.io, "\(error)")
    }

    /// Writes the immutable memtable to L0 and installs it. Caller holds the monitor; it is
    /// released during the I/O. A failure becomes the background error (writes then fail).
    func flushImmutable(holdingLock: Bool) throws {
        precondition(holdingLock)
        guard let imm = state.imm, !state.flushRunning else { return }
        state.flushRunning = true
        let logNumber = state.logFileNumber
        monitor.unlock()
        var written: UInt64?
        let result = Result { () throws -> Void in
            var edit = VersionEdit()
            if let meta = try writeLevel0Table(imm) {
                written = meta.number
                try fileSystem.syncDirectory(path)
                edit.newFiles.append((level: 0, file: meta))
            }
            // Logs older than the active one hold nothing the tables lack now.
            edit.logNumber = logNumber
            try versions.logAndApply(edit, monitor: monitor) { state.liveVersions.append(WeakVersion(version: $0)) }
        }
        monitor.lock()
        state.flushRunning = false
        if let written { state.pendingOutputs.remove(written) }
        switch result {
        case .success:
            state.imm = nil
            backgroundChanged.broadcast()
            monitor.unlock()
            deleteObsoleteFiles()
            monitor.lock()
        case .failure(let e):
            let error = Self.storageError(e)
            state.backgroundError = state.backgroundError ?? error
            backgroundChanged.broadcast()
            throw error
        }
    }

    /// Runs a compaction and installs its result. Caller does not hold the monitor and owns
    /// `state.compactionRunning`.
    func runCompaction(_ c: Compaction) throws {
        let (version, smallestSnapshot) = monitor.withLock {
            (versions.current, snapshots.oldest ?? state.visibleSequence)
        }
        final class Allocated { var numbers: [UInt64] = [] }
        let allocated = Allocated()
        let job = CompactionJob(
            compaction: c, version: version, directory: path, fileSystem: fileSystem, tables: tables,
            options: options, smallestSnapshot: smallestSnapshot,
            allocateFileNumber: { [self] in
                monitor.withLock {
                    let n = versions.newFileNumber()
                    state.pendingOutputs.insert(n)
                    allocated.numbers.append(n)
                    return n
                }
            }, statistics: statistics)
        defer { monitor.withLock { state.pendingOutputs.subtract(allocated.numbers) } }
        let edit = try job.run()
        // Registered as live in the same critical section that installs it: a reader may take
        // the version at once, and another thread's install may replace it before we could
        // register it afterwards (its files would then be deleted under the reader).
        try versions.logAndApply(edit, monitor: monitor) { state.liveVersions.append(WeakVersion(version: $0)) }
        deleteObsoleteFiles()
    }

    /// Deletes tables no live version uses, logs the manifest no longer needs, and old
    /// manifests. Safe to call at any time without the monitor.
    func deleteObsoleteFiles() {
        // Idle pooled iterators would keep older versions (and their files) alive.
        iteratorPool.removeAll()
        // Files numbered from `horizon` on were allocated after this snapshot of the live set
        // (the directory is listed later, outside the lock): they are never touched.
        let (live, logNumber, manifestNumber, horizon) = monitor.withLock {
            () -> (Set<UInt64>, UInt64, UInt64, UInt64) in
            state.liveVersions.removeAll { $0.version == nil }
            var live = state.pendingOutputs
            for v in versions.current.allFileNumbers { live.insert(v) }
            for w in state.liveVersions {
                if let v = w.version { live.formUnion(v.allFileNumbers) }
            }
            return (live, versions.logNumber, versions.manifestNumber, versions.nextFileNumber)
        }
        guard let names = try? fileSystem.listDirectory(path) else { return }
        for name in names {
            switch DBFiles.parse(name) {
            case .table(let n) where n < horizon && !live.contains(n):
                tables.evict(n)
                try? fileSystem.removeFile(joinPath(path, name))
            case .log(let n) where n < logNumber:
                try? fileSystem.removeFile(joinPath(path, name))
            case .manifest(let n) where n < manifestNumber:
                try? fileSystem.removeFile(joinPath(path, name))
            default:
                break
            }
        }
    }

    // MARK: Manual control

    /// Writes the memtable to a table now and waits until it is installed.
    public func flush() throws {
        try commit(batch: nil, single: nil, sync: false, forceFlush: true)
        monitor.lock()
        defer { monitor.unlock() }
        while state.imm != nil && state.backgroundError == nil && !state.closing {
            if options.backgroundWork {
                backgroundChanged.wait()
            } else {
                try flushImmutable(holdingLock: true)
            }
        }
        if let e = state.backgroundError { throw e }
    }

    /// Compacts everything into the deepest non-empty level: afterwards every key has one
    /// version (unless snapshots pin older ones) and tombstones are gone.
    public func compactRange() throws {
        try flush()
        monitor.lock()
        while state.compactionRunning && state.backgroundError == nil { backgroundChanged.wait() }
        if let e = state.backgroundError {
            monitor.unlock()
            throw e
        }
        state.compactionRunning = true
        monitor.unlock()
        defer {
            monitor.withLock {
                state.compactionRunning = false
                backgroundChanged.broadcast()
            }
        }
        let version = monitor.withLock { versions.current }
        let bottom = max(CompactionPicker.bottomLevel(version), 1)
        for level in 0...bottom {
            let current = monitor.withLock { versions.current }
            // Every level moves down into the next; the bottom is rewritten in place, which
            // drops its tombstones and shadowed versions.
            guard let c = picker.all(level: level, current, into: level < bottom ? level + 1 : level) else {
                continue
            }
            do {
                try runCompaction(c)
            } catch {
                monitor.withLock { state.backgroundError = state.backgroundError ?? Self.storageError(error) }
                throw error
            }
        }
    }

    /// Blocks until no flush or compaction is pending or running (for tests and tools).
    public func waitForBackgroundWork() throws {
        monitor.lock()
        defer { monitor.unlock() }
        guard options.backgroundWork else { return }
        while state.backgroundError == nil && !state.closing
            && (state.imm != nil || state.flushRunning || state.compactionRunning
                || pickCompaction() != nil)
        {
            backgroundChanged.wait()
        }
        if let e = state.backgroundError { throw e }
    }

    // MARK: Close

    /// Stops background work, closes the log and releases the directory. Writes already
    /// acknowledged are in the log; nothing is lost by closing without a flush.
    public func close() throws {
        monitor.lock()
        if state.closed || state.closing {
            monitor.unlock()
            return
        }
        state.closing = true
        backgroundChanged.broadcast()
        while !state.writers.isEmpty || !state.pendingGroups.isEmpty || state.syncRunning {
            state.writers.first?.signal()
            backgroundChanged.wait()
        }
        monitor.unlock()
        for t in threads { t.join() }
        threads.removeAll()
        monitor.lock()
        let log = state.log
        state.log = nil
        state.closed = true
        monitor.unlock()
        var failure: (any Error)?
        do { try log?.close() } catch { failure = error }
        iteratorPool.removeAll()
        versions.close()
        fileLockStorage?.unlock()
        fileLockStorage = nil
        if let failure { throw failure }
    }

    // MARK: Introspection

    /// Bytes of table files per level.
    public var levelSizes: [UInt64] {
        let v = monitor.withLock { versions.current }
        return (0..<Limits.numberOfLevels).map { v.size(ofLevel: $0) }
    }

    /// Table files per level.
    public var levelFileCounts: [Int] {
        monitor.withLock { versions.current.levels.map(\.count) }
    }

    /// Approximate bytes of memory held by memtables.
    public var memtableUsage: Int {
        monitor.withLock { state.mem.approximateMemoryUsage + (state.imm?.approximateMemoryUsage ?? 0) }
    }

    public var blockCacheUsage: Int { blockCache?.usage ?? 0 }
    public var blockCacheHits: UInt64 { blockCache?.hits ?? 0 }
    public var blockCacheMisses: UInt64 { blockCache?.misses ?? 0 }

    /// The error that stopped writes, if any.
    public var backgroundError: StorageError? { monitor.withLock { state.backgroundError } }
}
