import Glibc

/// An open database: an ordered, durable map from byte keys to byte values (SPEC.md §9).
///
/// Thread-safe. Writes are group-committed through the write-ahead log into the memtable; full
/// memtables are flushed to L0 tables and compacted down the levels by background threads. Reads
/// see a consistent snapshot. Errors are `StorageError`s; a missing key is `nil`.
public final class DB: @unchecked Sendable {
    public let path: String
    let options: Options
    let fileSystem: any FileSystem
    let tables: TableCache
    let blockCache: BlockCache?
    public let statistics = Statistics()
    let snapshots = SnapshotRegistry()
    /// Idle iterators for read views' bounded reads (emptied before obsolete files are deleted).
    let iteratorPool = IteratorPool()
    let versions: VersionSet
    var fileLockStorage: (any FileLock)?
    let picker: CompactionPicker

    /// Guards `state` and the fields of `versions` marked as guarded by the DB monitor.
    let monitor = Monitor()
    /// Writers whose threads returned them without the monitor (see `Parker`).
    let releasedWriters = ReleasedWriterPool()
    /// Signalled when background work finishes or is needed (flush, compaction, close).
    let backgroundChanged: Monitor.Condition
    /// Broadcast when a log fsync ends (`state.syncRunning` turns false).
    let logSyncEnded: Monitor.Condition
    /// `@exclusivity(unchecked)`: only touched under the monitor, and no access overlaps another
    /// (the run-time checks cost a thread-local lookup per access on every write).
    @exclusivity(unchecked) var state: State
    var threads: [BackgroundThread] = []

    struct State {
        var mem = MemTable()
        var imm: MemTable?
        /// The active log; written by the current write leader outside the lock.
        var log: LogWriter?
        var logFileNumber: UInt64 = 0
        /// Highest sequence whose write is fully applied: the default read snapshot.
        var visibleSequence: SequenceNumber = 0
        /// Group commit queue; the first writer is the leader, the only one writing the log.
        var writers: [Writer] = []
        /// Groups already in the log (and memtable) whose writers still wait, in log order: a
        /// sync group for an fsync covering it, every group for those before it (visibility
        /// advances in order). See `DB+Commit.swift`.
        var pendingGroups: [PendingGroup] = []
        /// Last sequence appended to the active log (or an older, synced one): handed to the OS,
        /// or, for a sync group, in the log's buffer until its syncer's flush.
        var writtenSequence: SequenceNumber = 0
        /// A write leader is appending to the log outside the monitor: it owns the log's buffer.
        var leaderAppending = false
        /// A syncer waiting for that leader to finish before it flushes the buffer.
        var flushWaiter: Writer?
        /// Last sequence an fsync has made durable.
        var syncedSequence: SequenceNumber = 0
        /// The list `completePendingGroups` fills, kept empty with its capacity between calls.
        var wokenScratch: [Writer] = []
        /// Writers in `pendingGroups`.
        var pendingWriters = 0
        /// An fsync of the active log runs outside the lock, or is about to (its syncer gathers
        /// writers), or a memtable switch is retiring the log: nobody else may sync, switch or
        /// close the log meanwhile.
        var syncRunning = false
        /// How many writers were in play at the last fsync, so the next can wait a moment for
        /// them (see `gatherBeforeSync`).
        var syncPacer = SyncGroupPacer()
        /// `pendingWriters` at which the syncer gathering writers wants waking (0: none waits),
        /// and that syncer.
        var gatherTarget = 0
        var gatheringSyncer: Writer?
        /// When the current gathering wait started (`monotonicNanos`).
        var gatherStartNanos: UInt64 = 0
        /// Writers no commit uses now, for the next ones (see `Writer`), returned under the
        /// monitor; those that return without it go to `releasedWriters`.
        var idleWriters: [Writer] = []
        /// The reusable log record of a group that is not one writer's own batch; the leader
        /// takes it out while it writes the group and puts it back (see `DB+Commit.swift`).
        var groupBatch = WriteBatch()
        /// A failed log, flush or manifest write: the database refuses writes until reopened.
        var backgroundError: StorageError?
        var closing = false
        var closed = false
        var compactionRunning = false
        var flushRunning = false
        /// Set when opening wrote the logs it recovered into L0 and L0 then holds two tables or
        /// more: they are compacted even below the trigger (`DB.pickCompaction`), since nothing
        /// else would while only reads come, and every read merges each of them.
        var compactRecoveredLevel0 = false
        /// Table numbers being written, not yet in any version: never deleted as obsolete.
        var pendingOutputs: Set<UInt64> = []
        /// Every version ever installed that someone may still hold (readers keep it alive).
        var liveVersions: [WeakVersion] = []
    }

    struct WeakVersion { weak var version: Version? }

    /// A writer waiting in (or leading) the group-commit queue. Pooled (`State.idleWriters`,
    /// `releasedWriters`): a put allocates no writer object. Every field is touched only under
    /// the monitor, except by the leader that has taken the writer's group (the writer itself is
    /// then blocked in `commit`), and by its own thread once released (`Parker`): nobody refers
    /// to it then.
    final class Writer {
        /// The batch to commit, or an empty placeholder when `single` holds the write.
        var batch = WriteBatch.placeholder
        /// A single put or delete, its bytes borrowed from the caller, who is blocked in
        /// `commit` until the write is done: no batch is built for it.
        var single: (kind: ValueKind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?
        var sync = false
        /// A memtable switch requested by `flush()`, carried through the writer queue.
        var forceFlush = false
        var done = false
        var error: (any Error)?
        /// This use of the (pooled) writer: bumped by each commit, named by each release.
        var ticket: UInt64 = 0
        /// The (at most two: the releases form a binary tree) writers this one is to release
        /// after it leaves the monitor (`DB.commit`), as (slot, ticket). Set under the monitor
        /// before this writer is released, read by its own thread after. Two fields, not an
        /// array: filling them allocates nothing on the path from an fsync to its releases.
        var wakeFirst: (parker: Parker, ticket: UInt64)?
        var wakeSecond: (parker: Parker, ticket: UInt64)?

        /// Adds a writer for this one to release after it leaves the monitor.
        func addWake(_ parker: Parker, _ ticket: UInt64) {
            if wakeFirst == nil {
                wakeFirst = (parker, ticket)
            } else if wakeSecond == nil {
                wakeSecond = (parker, ticket)
            } else {
                // Never with one tree per fsync; released at once (under the monitor) if it were.
                parker.release(ticket: ticket)
            }
        }
        /// Where this writer waits: its own slot, so a release needs no DB monitor.
        let parker = Parker()
        private unowned let monitor: Monitor

        init(monitor: Monitor) {
            self.monitor = monitor
        }

        /// The size its records add to a group's log record (an upper bound for a single).
        var byteSize: Int {
            if let single { return 11 + single.key.count + single.value.count }
            return batch.byteSize - WriteBatchFormat.headerSize
        }

        /// Waits for a wake-up, then retakes the monitor. Caller holds the monitor.
        func wait() { _ = waitForRelease(deadline: nil, relock: true) }

        /// Waits for a wake-up or at most `nanoseconds`, then retakes the monitor. Caller holds
        /// the monitor.
        func wait(nanoseconds: UInt64) {
            _ = waitForRelease(deadline: monotonicNanos() + nanoseconds, relock: true)
        }

        /// Waits for a wake-up. Returns true when released (`done` and `error` are final and
        /// were set before): the monitor is then NOT retaken. Otherwise returns false holding
        /// the monitor again. Caller holds the monitor.
        func waitForRelease() -> Bool { waitForRelease(deadline: nil, relock: false) }

        private func waitForRelease(deadline: UInt64?, relock: Bool) -> Bool {
            let ticket = self.ticket
            monitor.unlock()
            let released = parker.park(ticket: ticket, deadline: deadline)
            if released && !relock { return true }
            monitor.lock()
            return false
        }

        /// Wakes this writer to re-check the DB's state; a stray wake-up only costs it a look.
        /// Caller holds the monitor.
        func signal() { parker.unpark() }

        /// Marks this writer's write done (with `error`, if any) and releases it. Caller holds
        /// the monitor.
        func finish(error: (any Error)?) {
            self.error = error
            done = true
            parker.release(ticket: ticket)
        }
    }

    private init(path: String, options: Options) {
        self.path = path
        self.options = options
        fileSystem = options.fileSystem
        blockCache = options.blockCacheCapacity > 0 ? BlockCache(capacity: options.blockCacheCapacity) : nil
        tables = TableCache(directory: path, fileSystem: options.fileSystem, blockCache: blockCache)
        versions = VersionSet(directory: path, fileSystem: options.fileSystem)
        picker = CompactionPicker(options: options)
        backgroundChanged = monitor.makeCondition()
        logSyncEnded = monitor.makeCondition()
        state = State()
    }

    deinit {
        if !state.closed { try? close() }
    }

    // MARK: Open

    /// Opens (or creates) the database in directory `path`.
    public static func open(at path: String, options: Options = Options()) throws -> DB {
        let db = DB(path: path, options: options)
        try db.recover()
        return db
    }

    // MARK: Writes

    public func put(_ key: [UInt8], _ value: [UInt8], options: WriteOptions = WriteOptions()) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in try put(bytes: k, v, options: options) }
        }
    }

    /// `put` from borrowed bytes: they are read while the call lasts and never kept.
    public func put(bytes key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, options: WriteOptions = WriteOptions())
        throws
    {
        try Self.validate(key: key, value: value.count)
        try commit(single: (kind: .value, key: key, value: value), sync: options.sync ?? self.options.syncByDefault)
    }

    public func delete(_ key: [UInt8], options: WriteOptions = WriteOptions()) throws {
        try key.withUnsafeBytes { k in
            try Self.validate(key: k, value: 0)
            let none = UnsafeRawBufferPointer(rebasing: k[0..<0])
            try commit(single: (kind: .deletion, key: k, value: none), sync: options.sync ?? self.options.syncByDefault)
        }
    }

    /// Applies every record of `batch` atomically: after any crash all of it or none is there.
    /// (`consuming`: a batch the caller is done with reaches the log without a copy.)
    public func write(_ batch: consuming WriteBatch, options writeOptions: WriteOptions = WriteOptions()) throws {
        guard batch.count > 0 else { return }
        try Self.validate(batch)
        try commit(batch: consume batch, sync: writeOptions.sync ?? options.syncByDefault)
    }

    static func validate(_ batch: WriteBatch) throws {
        try batch.forEachRaw { _, key, head, value in try validate(key: key, value: head.count + value.count) }
    }

    @inline(__always)
    static func validate(key: UnsafeRawBufferPointer, value valueCount: Int) throws {
        if key.isEmpty { throw StorageError(.invalidArgument, "empty key") }
        if key.count > Limits.maxKeySize {
            throw StorageError(.limit, "key of \(key.count) bytes exceeds the limit of \(Limits.maxKeySize)")
        }
        if valueCount > Limits.maxValueSize {
            throw StorageError(.limit, "value of \(valueCount) bytes exceeds the limit of \(Limits.maxValueSize)")
        }
    }

    /// Makes sure the memtable has room, switching to a new one (and a new log) when it is full,
    /// and slowing or stopping the writer while compaction is behind. Caller holds the monitor
    /// (it is released while waiting or doing I/O).
    func makeRoomForWrite(force: Bool) throws {
        var allowDelay = !force
        var force = force
        while true {
            if let e = state.backgroundError { throw e }
            if state.closing { throw StorageError(.closed, "the database is closing") }
            let level0 = versions.current.levels[0].count
            let background = options.backgroundWork
            if background && allowDelay && level0 >= options.level0SlowdownTrigger {
                // Delay each write by 1 ms rather than stop them all later at once.
                monitor.unlock()
                usleepMicros(1000)
                statistics.add(.writeSlowdowns)
                statistics.add(.stallMicros, 1000)
                monitor.lock()
                allowDelay = false
                continue
            }
            // An empty memtable always has room, whatever its arena has reserved.
            if state.mem.isEmpty { return }
            if !force && state.mem.approximateMemoryUsage <= options.memtableSize { return }
            if state.imm != nil {
                if !background {
                    try flushImmutable(holdingLock: true)
                    continue
                }
                let start = monotonicNanos()
                statistics.add(.writeStops)
                backgroundChanged.wait()
                statistics.add(.stallMicros, (monotonicNanos() - start) / 1000)
                continue
            }
            if background && level0 >= options.level0StopTrigger {
                let start = monotonicNanos()
                statistics.add(.writeStops)
                backgroundChanged.wait()
                statistics.add(.stallMicros, (monotonicNanos() - start) / 1000)
                continue
            }
            try switchMemTable()
            force = false
            if background { backgroundChanged.broadcast() }
        }
    }

    /// Starts a new log and memtable; the full memtable becomes the immutable one to flush.
    /// Caller holds the monitor and is the write leader.
    private func switchMemTable() throws {
        // The old log is synced and closed below: no fsync of it may run meanwhile, and none may
        // start until the new log is in place (`syncRunning` keeps the group syncers out).
        while state.syncRunning { logSyncEnded.wait() }
        state.syncRunning = true
        let written = state.writtenSequence
        let number = versions.newFileNumber()
        let old = state.log
        monitor.unlock()
        let newLog: LogWriter
        do {
            newLog = LogWriter(file: try fileSystem.createWritable(DBFiles.log(path, number)))
            try fileSystem.syncDirectory(path)
        } catch {
            monitor.lock()
            endLogSync()
            throw error
        }
        do {
            // Unsynced writes at the old log's tail must not be lost in a power loss while a
            // later synced write in the new log survives it (the flush that would make them
            // durable may not have finished): a synced write makes every earlier one durable.
            try old?.sync()
            try old?.close()
        } catch {
            monitor.lock()
            // The old log's tail is unknown now: stop, as after any failed log write.
            let failure = Self.storageError(error)
            state.backgroundError = state.backgroundError ?? failure
            failPendingGroups(failure)
            endLogSync()
            throw error
        }
        monitor.lock()
        state.imm = state.mem
        state.mem = MemTable(expectedBytes: options.memtableSize, keyFilter: options.memtableKeyFilter)
        state.log = newLog
        state.logFileNumber = number
        // Every group waiting for an fsync was in the old log, which is synced now.
        state.syncedSequence = max(state.syncedSequence, written)
        completePendingGroups()
        endLogSync()
    }

    // MARK: Reads

    /// The value stored under `key`, or nil.
    public func get(_ key: [UInt8], options readOptions: ReadOptions = ReadOptions()) throws -> [UInt8]? {
        try key.withUnsafeBytes { bytes in
            try read(bytes, keyArray: key, readOptions, fromArray: { $0 }, { Array($0) })
        }
    }

    /// `get` with the key in borrowed memory: no array is made for the key.
    public func get(bytes key: UnsafeRawBufferPointer, options readOptions: ReadOptions = ReadOptions()) throws
        -> [UInt8]?
    {
        try read(key, keyArray: nil, readOptions, fromArray: { $0 }, { Array($0) })
    }

    /// Calls `body` with the value stored under `key`, lent only for the call, and returns what
    /// it returns; nil (and `body` not called) when there is no value. A value read from a table
    /// is not copied: for callers that only look at the bytes.
    public func withValue<R>(
        forKey key: UnsafeRawBufferPointer, options readOptions: ReadOptions = ReadOptions(),
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try read(key, keyArray: nil, readOptions, fromArray: { try $0.withUnsafeBytes(body) }, body)
    }

    /// Takes the memtables, version and sequence under the monitor, then reads outside it
    /// (`ReadView.read`).
    @inline(__always)
    private func read<R>(
        _ key: UnsafeRawBufferPointer, keyArray: [UInt8]?, _ readOptions: ReadOptions,
        fromArray: ([UInt8]) throws -> R, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        monitor.lock()
        if state.closed {
            monitor.unlock()
            throw StorageError(.closed, "the database is closed")
        }
        let mem = state.mem
        let imm = state.imm
        let version = versions.current
        let sequence = readOptions.snapshot?.sequence ?? state.visibleSequence
        monitor.unlock()
        return try ReadView.read(
            key, keyArray: keyArray, mem: mem, imm: imm, version: version, sequence: sequence, tables: tables,
            statistics: statistics, fromArray: fromArray, body)
    }

    /// An iterator over the database at `options.snapshot` (or now). It holds the tables it
    /// reads, so it stays valid while writes, flushes and compactions go on.
    public func makeIterator(options readOptions: ReadOptions = ReadOptions()) -> DBIterator {
        makeIterator(options: readOptions, lowerBound: [], upperBound: [])
    }

    /// Pins the current state for consistent reads; see `Snapshot`.
    public func snapshot() -> Snapshot {
        let sequence = monitor.withLock { state.visibleSequence }
        return snapshots.make(sequence)
    }

    /// The sequence of the last applied write.
    public var latestSequence: SequenceNumber { monitor.withLock { state.visibleSequence } }
}

@inline(__always)
func usleepMicros(_ micros: UInt32) {
    _ = usleep(micros)
}
