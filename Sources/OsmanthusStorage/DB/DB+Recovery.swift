/// Opening a database: lock, read the manifest, replay the logs it has not yet absorbed, and
/// start a fresh log and manifest (SPEC.md §9.7).
extension DB {
    func recover() throws {
        let fs = fileSystem
        if options.createIfMissing {
            try createDirectoryDurably(path)
        } else if !fs.fileExists(path) {
            throw StorageError(.notFound, "database directory \(path) does not exist", file: path)
        }
        let lock = try fs.lockFile(DBFiles.lock(path))
        do {
            try recoverLocked()
        } catch {
            lock.unlock()
            throw error
        }
        monitor.withLock { setFileLock(lock) }
    }

    /// Creates `directory` and any missing parents, then syncs the parent of each one made: a
    /// new directory is lost in a power loss until its entry in its parent is durable.
    private func createDirectoryDurably(_ directory: String) throws {
        var made: [String] = []
        var d = directory
        while d != "/" && d != "." && !d.isEmpty && !fileSystem.fileExists(d) {
            made.append(d)
            d = Self.parentDirectory(of: d)
        }
        try fileSystem.createDirectory(directory)
        for d in made { try fileSystem.syncDirectory(Self.parentDirectory(of: d)) }
    }

    /// The directory holding `path`, lexically ("a" → ".", "/a" → "/", "a/b/" → "a").
    static func parentDirectory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    private func recoverLocked() throws {
        let fs = fileSystem
        if !fs.fileExists(DBFiles.current(path)) {
            guard options.createIfMissing, !options.readOnly else {
                throw StorageError(.notFound, "no database in \(path) (CURRENT is missing)", file: path)
            }
            try VersionSet.create(directory: path, fileSystem: fs)
            try fs.syncDirectory(path)
        } else if options.errorIfExists {
            throw StorageError(.invalidArgument, "a database already exists in \(path)", file: path)
        }
        try versions.recover()

        let names = try fs.listDirectory(path)
        var present = Set<UInt64>()
        var logs: [UInt64] = []
        for name in names {
            switch DBFiles.parse(name) {
            case .table(let n): present.insert(n)
            case .log(let n): logs.append(n)
            default: break
            }
        }
        // The log the manifest names as live always exists: it is created, and its directory
        // synced, before an edit names it, and deleted only after a later edit names a newer
        // one. Gone, it means edits after the last one read took effect and were lost — the
        // manifest's tail was damaged after it was synced, not torn by a crash.
        let liveLogMissing = versions.logNumber != 0 && !logs.contains(versions.logNumber)
        let missingTable = versions.current.allFileNumbers.first { !present.contains($0) }
        if let tail = versions.droppedManifestTail, liveLogMissing || missingTable != nil {
            throw StorageError.corruption(
                "manifest: damaged record at offset \(tail), yet later edits took effect "
                    + "(files they made obsolete are gone)",
                file: DBFiles.manifest(path, versions.manifestNumber), offset: tail)
        }
        if let number = missingTable {
            throw StorageError.corruption(
                "table \(DBFiles.number(number)).sst is listed in the manifest but missing",
                file: DBFiles.table(path, number), offset: nil)
        }
        if liveLogMissing {
            throw StorageError.corruption(
                "log \(DBFiles.number(versions.logNumber)).log, which the manifest names as live, is missing",
                file: DBFiles.log(path, versions.logNumber), offset: nil)
        }
        let highest = (logs.max() ?? 0)
        versions.nextFileNumber = max(versions.nextFileNumber, highest + 1, (present.max() ?? 0) + 1)

        // Replay every log the manifest has not absorbed, oldest first.
        var edit = VersionEdit()
        var mem = MemTable(expectedBytes: options.memtableSize, keyFilter: options.memtableKeyFilter)
        var maxSequence = versions.lastSequence
        for number in logs.sorted() where number >= versions.logNumber {
            let logPath = DBFiles.log(path, number)
            let reader = LogReader(file: try fs.openReadable(logPath))
            var offset: UInt64 = 0
            while let record = try reader.readRecord() {
                let batch = try WriteBatch(decoding: record, file: logPath, offset: offset)
                offset = reader.lastRecordEnd
                _ = mem.insert(batch, sequence: batch.sequence)
                if batch.count > 0 { maxSequence = max(maxSequence, batch.sequence + SequenceNumber(batch.count) - 1) }
                if !options.readOnly && mem.approximateMemoryUsage > options.memtableSize {
                    if let meta = try writeLevel0Table(mem) { edit.newFiles.append((level: 0, file: meta)) }
                    mem = MemTable(expectedBytes: options.memtableSize, keyFilter: options.memtableKeyFilter)
                }
            }
        }
        versions.lastSequence = maxSequence
        state.visibleSequence = maxSequence

        if options.readOnly {
            // Keep what the logs held in memory; write nothing.
            state.mem = mem
            return
        }
        if let meta = try writeLevel0Table(mem) { edit.newFiles.append((level: 0, file: meta)) }
        if !edit.newFiles.isEmpty { try fs.syncDirectory(path) }

        let logNumber = versions.newFileNumber()
        let log = LogWriter(file: try fs.createWritable(DBFiles.log(path, logNumber)))
        try fs.syncDirectory(path)
        edit.logNumber = logNumber
        // The recovered tables and the new log number go into the first record of a new
        // manifest: until CURRENT points at it, the old manifest and logs still describe the
        // database, so a crash here loses nothing.
        versions.current = try versions.current.applying(edit)
        versions.logNumber = logNumber
        state.compactRecoveredLevel0 = !edit.newFiles.isEmpty && versions.current.levels[0].count >= 2
        try versions.openManifest(monitor: monitor)
        monitor.withLock {
            state.pendingOutputs.removeAll()
            state.log = log
            state.logFileNumber = logNumber
            state.mem = MemTable(expectedBytes: options.memtableSize, keyFilter: options.memtableKeyFilter)  // its key filter sized for it
            state.liveVersions.append(WeakVersion(version: versions.current))
        }
        for name in names {
            if case .temp = DBFiles.parse(name) { try? fs.removeFile(joinPath(path, name)) }
        }
        deleteObsoleteFiles()
        if options.backgroundWork { startBackgroundThreads() }
    }

    /// Writes a memtable to a new L0 table; nil when it is empty. The table's number stays in
    /// `pendingOutputs` (safe from deletion) until the caller has installed it in a version and
    /// removes it.
    func writeLevel0Table(_ mem: MemTable) throws -> FileMetadata? {
        guard !mem.isEmpty else { return nil }
        let number = monitor.withLock { () -> UInt64 in
            let n = versions.newFileNumber()
            state.pendingOutputs.insert(n)
            return n
        }
        var writer: TableFileWriter?
        do {
            let w = try TableFileWriter(
                directory: path, number: number, fileSystem: fileSystem, options: options.tableOptions(forLevel: 0),
                fillCache: options.fillCacheOnFlush ? blockCache : nil)
            writer = w
            let it = mem.makeIterator()
            it.seekToFirst()
            while it.isValid {
                try w.add(it.key, it.value)
                it.next()
            }
            let meta = try w.finish(fileSystem: fileSystem)
            statistics.add(.flushes)
            statistics.add(.flushBytes, meta?.size ?? 0)
            return meta
        } catch {
            // Nothing will install this number: stop protecting it.
            writer?.abandon(fileSystem: fileSystem)
            monitor.withLock { _ = state.pendingOutputs.remove(number) }
            throw error
        }
    }

    private func setFileLock(_ lock: any FileLock) {
        fileLockStorage = lock
    }
}
