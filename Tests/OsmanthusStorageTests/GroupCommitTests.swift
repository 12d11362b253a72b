import Glibc
import Synchronization
import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// `threads` threads each put `perThread` keys `<prefix><t>-<i>` = `v<t>-<i>` with sync on.
private func putSyncFromThreads(_ db: DB, threads: Int, perThread: Int, prefix: String) throws {
    try runConcurrently(threads) { t in
        for i in 0..<perThread {
            try db.put(bytes("\(prefix)\(t)-\(i)"), bytes("v\(t)-\(i)"), options: WriteOptions(sync: true))
        }
    }
}

/// Every key `putSyncFromThreads` wrote is in `db` with its value.
private func expectSyncWrites(in db: DB, threads: Int, perThread: Int, prefix: String) throws {
    for t in 0..<threads {
        for i in 0..<perThread { #expect(try db.get(bytes("\(prefix)\(t)-\(i)")) == bytes("v\(t)-\(i)")) }
    }
}

struct GroupCommitTests {
    /// Writers that stop at different times: the groups and the fsyncs they share change shape
    /// as writers leave; every write must still land and nobody may hang.
    @Test func syncWritersThatStopAtDifferentTimesAllLand() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let threads = 12
        try runConcurrently(threads) { t in
            for i in 0..<(10 + 8 * t) {
                try db.put(bytes("t\(t)-\(i)"), bytes("\(i)"), options: WriteOptions(sync: true))
            }
        }
        var total = 0
        for t in 0..<threads {
            for i in 0..<(10 + 8 * t) {
                #expect(try db.get(bytes("t\(t)-\(i)")) == bytes("\(i)"))
                total += 1
            }
        }
        #expect(db.statistics.value(.keysWritten) == UInt64(total))
        // Each synced group costs one fsync: never more fsyncs than groups or than writes.
        #expect(db.statistics.value(.walSyncs) <= db.statistics.value(.writeGroups))
        #expect(db.statistics.value(.writeGroups) <= UInt64(total))
        try db.close()
    }

    /// Closing while sync groups wait for an fsync lets them finish first, and loses nothing.
    @Test func closeWhileSyncWritersRunFinishesAndKeepsAcknowledgedWrites() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let acknowledged = AcknowledgedKeys()
        try runConcurrently(9) { t in
            if t == 8 {
                // Close once the writers are well under way.
                let deadline = ContinuousClock.now + .seconds(60)
                while acknowledged.count < 200 && ContinuousClock.now < deadline { sched_yield() }
                try db.close()
                return
            }
            var i = 0
            while true {
                let key = bytes("w\(t)-\(i)")
                do {
                    try db.put(key, key, options: WriteOptions(sync: true))
                } catch let e as StorageError where e.code == .closed {
                    return
                }
                acknowledged.add(key)
                i += 1
            }
        }
        let reopened = try DB.open(at: dir.path, options: smallOptions())
        for key in acknowledged.all { #expect(try reopened.get(key) == key) }
        try reopened.close()
    }
}

extension GroupCommitTests {
    /// Power losses taken while sync writers (and some unsynced ones) run, with memtable switches
    /// retiring logs under them: every sync write acknowledged before the loss is in the copy.
    /// The acknowledged keys are read before the copy is taken, so each was acknowledged first.
    @Test func syncWritesAcknowledgedBeforeAPowerLossSurviveIt() throws {
        let fs = MemFileSystem()
        let db = try DB.open(at: "/db", options: smallOptions(fs))
        let synced = AcknowledgedKeys()
        let taken = try powerLosses(of: fs, while: 8, writersRecordingIn: synced) { t in
            for i in 0..<150 {
                let key = bytes("w\(t)-\(i)")
                let value = [UInt8](repeating: UInt8(i & 0xff), count: 300)
                // Every fourth write of odd writers is unsynced: it queues behind sync groups.
                let sync = t % 2 == 0 || i % 4 != 0
                try db.put(key, value, options: WriteOptions(sync: sync))
                if sync { synced.add(key) }
            }
        }
        #expect(db.statistics.value(.walSyncs) <= db.statistics.value(.writeGroups))
        try db.close()
        #expect(!taken.isEmpty)
        for (acknowledged, copy) in taken.suffix(6) {
            let reopened = try DB.open(at: "/db", options: smallOptions(copy))
            for key in acknowledged {
                let i = Int(key.split(separator: UInt8(ascii: "-")).last.map { String(decoding: $0, as: UTF8.self) } ?? "") ?? -1
                #expect(try reopened.get(key) == [UInt8](repeating: UInt8(i & 0xff), count: 300), "\(String(decoding: key, as: UTF8.self))")
            }
            try reopened.close()
        }
    }

    /// An fsync that fails while many sync writers wait: none of the writers it covered (nor any
    /// waiting behind it) is acknowledged, the database stops, and after a power loss every
    /// write that was acknowledged is there.
    @Test func failedFsyncUnderConcurrentSyncWritersAcknowledgesNothingItCovered() throws {
        let base = MemFileSystem()
        let fs = FaultInjectionFileSystem(base: base)
        let db = try DB.open(at: "/db", options: smallOptions(fs))
        let acknowledged = AcknowledgedKeys()
        fs.inject(.sync, code: .io, errno: EIO, pathContains: ".log", after: 40)
        try runConcurrently(8) { t in
            for i in 0..<400 {
                let key = bytes("w\(t)-\(i)")
                do {
                    try db.put(key, key, options: WriteOptions(sync: true))
                } catch let e as StorageError where e.code == .io {
                    return
                }
                acknowledged.add(key)
            }
        }
        #expect(db.backgroundError?.code == .io)
        #expect(acknowledged.count < 8 * 400)
        let powerLoss = base.crashClone()
        try db.close()
        let reopened = try DB.open(at: "/db", options: smallOptions(powerLoss))
        for key in acknowledged.all { #expect(try reopened.get(key) == key) }
        try reopened.close()
    }
}

/// A file system over a crashable in-memory one whose fsyncs take `delayMicros` first, as a
/// disk's do: sync writers then come back while an fsync runs, and syncers gather them.
private final class SlowSyncFileSystem: ForwardingFileSystem {
    let base: FileSystem
    let delayMicros: UInt32
    var forwarded: any FileSystem { base }

    init(base: FileSystem, delayMicros: UInt32) {
        self.base = base
        self.delayMicros = delayMicros
    }

    func createWritable(_ path: String) throws -> WritableFile { SlowFile(try base.createWritable(path), delayMicros) }
    func openAppendable(_ path: String) throws -> WritableFile { SlowFile(try base.openAppendable(path), delayMicros) }

    private final class SlowFile: WritableFile {
        private let file: WritableFile
        private let delayMicros: UInt32
        init(_ file: WritableFile, _ delayMicros: UInt32) {
            self.file = file
            self.delayMicros = delayMicros
        }
        var path: String { file.path }
        var size: UInt64 { file.size }
        func append(_ bytes: UnsafeRawBufferPointer) throws { try file.append(bytes) }
        func flush() throws { try file.flush() }
        func sync() throws {
            usleep(delayMicros)
            try file.sync()
        }
        func syncFlushed() throws {
            usleep(delayMicros)
            try file.syncFlushed()
        }
        func close() throws { try file.close() }
    }
}

extension GroupCommitTests {
    /// When the writer whose group completes a syncer's gathering wait runs that fsync itself
    /// (`walSyncHandOffs`), every write is still released by exactly one fsync, and power losses
    /// taken meanwhile keep every acknowledged write. Rounds of eight sync writers over a
    /// buffering, slow-syncing in-memory file system run until hand-offs were seen (they need
    /// the writers back within the wait, which a loaded machine may delay for a while).
    @Test func syncHandedToTheWriterCompletingTheGatherKeepsEveryAcknowledgedWrite() throws {
        let mem = MemFileSystem()
        var options = smallOptions(SlowSyncFileSystem(base: BufferingFileSystem(base: mem), delayMicros: 2000))
        options.memtableSize = 8 << 20
        let db = try DB.open(at: "/db", options: options)
        let writers = 8
        let perWriter = 30
        let deadline = monotonicNanos() + 30_000_000_000
        var rounds = 0
        var checked = 0
        repeat {
            let synced = AcknowledgedKeys()
            let round = rounds
            let taken = try powerLosses(of: mem, while: writers, writersRecordingIn: synced) { t in
                for i in 0..<perWriter {
                    let key = bytes("h\(round)-\(t)-\(i)")
                    try db.put(key, key, options: WriteOptions(sync: true))
                    synced.add(key)
                }
            }
            rounds += 1
            for (acknowledged, copy) in taken.suffix(2) {
                let reopened = try DB.open(at: "/db", options: smallOptions(copy))
                for key in acknowledged {
                    #expect(try reopened.get(key) == key, "\(String(decoding: key, as: UTF8.self))")
                    checked += 1
                }
                try reopened.close()
            }
        } while db.statistics.value(.walSyncHandOffs) == 0 && monotonicNanos() < deadline
        let handOffs = db.statistics.value(.walSyncHandOffs)
        #expect(handOffs > 0, "no hand-off in \(rounds) rounds")
        #expect(handOffs <= db.statistics.value(.walSyncGathers))
        #expect(db.statistics.value(.walSyncedWriters) == UInt64(rounds * writers * perWriter))
        #expect(checked > 0)
        try db.close()
    }
}

extension GroupCommitTests {
    /// The writers an fsync releases wake each other in a binary tree (`completePendingGroups`):
    /// with 32 sync writers over a slow-syncing file system, fsyncs release deep trees, and every
    /// writer must still be woken (a lost wake-up hangs the run), each released by exactly one
    /// fsync, every write there after reopening.
    @Test func thirtyTwoSyncWritersAreAllWokenThroughTheWakeTree() throws {
        let mem = MemFileSystem()
        var options = smallOptions(SlowSyncFileSystem(base: mem, delayMicros: 1000))
        options.memtableSize = 8 << 20
        let db = try DB.open(at: "/db", options: options)
        let threads = 32
        let perThread = 25
        try putSyncFromThreads(db, threads: threads, perThread: perThread, prefix: "w")
        let total = UInt64(threads * perThread)
        #expect(db.statistics.value(.walSyncedWriters) == total)
        #expect(db.statistics.value(.walSyncs) < total, "no fsync carried more than one writer")
        try db.close()
        let reopened = try DB.open(at: "/db", options: smallOptions(mem.crashClone()))
        try expectSyncWrites(in: reopened, threads: threads, perThread: perThread, prefix: "w")
        try reopened.close()
    }
}

/// Runs `writers` threads of `write` (given its thread number) while one more thread takes power
/// losses of `fs` until they finish, and one after: each loss pairs the keys acknowledged before it (read
/// first, so each was acknowledged before the copy) with the crash copy.
private func powerLosses(
    of fs: MemFileSystem, while writers: Int, writersRecordingIn synced: AcknowledgedKeys,
    write: @escaping @Sendable (Int) throws -> Void
) throws -> [([[UInt8]], MemFileSystem)] {
    let losses = Mutex<[([[UInt8]], MemFileSystem)]>([])
    let finished = Atomic<Int>(0)
    // Writers start only once the first copy is taken, so a loaded machine cannot run them all
    // to the end before the copying thread runs at all (which left nothing to check).
    let copying = Atomic<Bool>(false)
    @Sendable func takeCopy() {
        let acknowledged = synced.all
        let copy = fs.crashClone()
        losses.withLock { $0.append((acknowledged, copy)) }
    }
    try runConcurrently(writers + 1) { t in
        guard t == writers else {
            defer { finished.add(1, ordering: .releasing) }
            while !copying.load(ordering: .acquiring) { sched_yield() }
            try write(t)
            return
        }
        repeat {
            takeCopy()
            copying.store(true, ordering: .releasing)
            sched_yield()
        } while finished.load(ordering: .acquiring) < writers
        // And one with every write acknowledged.
        takeCopy()
    }
    return losses.withLock { $0 }
}

/// Keys whose writes returned, collected from several threads (the Mutex guards the list).
private final class AcknowledgedKeys: Sendable {
    private let keys = Mutex<[[UInt8]]>([])
    func add(_ key: [UInt8]) { keys.withLock { $0.append(key) } }
    var count: Int { keys.withLock { $0.count } }
    var all: [[UInt8]] { keys.withLock { $0 } }
}

extension GroupCommitTests {
    /// A memtable large enough that no log switch (which acknowledges groups itself) happens.
    private func noSwitchOptions(_ fs: any FileSystem = PosixFileSystem()) -> Options {
        var o = smallOptions(fs)
        o.memtableSize = 8 << 20
        return o
    }

    /// Sixteen sync writers started together (storage-bench's fillsync16): every write is
    /// acknowledged by exactly one fsync, so the writers the fsyncs released add up to the
    /// writes; there are never more fsyncs than writes, nor more waits for writers than fsyncs;
    /// and every write is there after reopening.
    @Test func concurrentSyncWritersAreEachReleasedByOneFsyncAndSurviveReopen() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: noSwitchOptions())
        let threads = 16
        let perThread = 40
        try putSyncFromThreads(db, threads: threads, perThread: perThread, prefix: "s")
        let total = UInt64(threads * perThread)
        #expect(db.statistics.value(.keysWritten) == total)
        #expect(db.statistics.value(.walSyncedWriters) == total)
        #expect(db.statistics.value(.walSyncs) >= 1)
        #expect(db.statistics.value(.walSyncs) <= total)
        #expect(db.statistics.value(.walSyncGathers) <= db.statistics.value(.walSyncs))
        try db.close()
        let reopened = try DB.open(at: dir.path, options: noSwitchOptions())
        try expectSyncWrites(in: reopened, threads: threads, perThread: perThread, prefix: "s")
        try reopened.close()
    }

    /// One sync writer is never delayed to wait for others: each write has its own fsync and
    /// no syncer ever waits for writers in play.
    @Test func loneSyncWriterNeverWaitsForOtherWriters() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: noSwitchOptions())
        for i in 0..<100 { try db.put(bytes("k\(i)"), bytes("v\(i)"), options: WriteOptions(sync: true)) }
        #expect(db.statistics.value(.walSyncs) == 100)
        #expect(db.statistics.value(.walSyncedWriters) == 100)
        #expect(db.statistics.value(.walSyncGathers) == 0)
        #expect(db.statistics.value(.walSyncGatherMicros) == 0)
        try db.close()
    }

    /// Sync groups' records wait in the log's buffer until their syncer hands them to the OS
    /// just before its fsync. Over a file system that buffers appends in the process (as
    /// `PosixFileSystem` does), power losses taken while sync writers run (the buffer is lost
    /// with the process, unsynced data is dropped) keep every acknowledged write.
    @Test func syncWritesBufferedForTheirSyncerSurviveAPowerLoss() throws {
        let mem = MemFileSystem()
        let db = try DB.open(at: "/db", options: noSwitchOptions(BufferingFileSystem(base: mem)))
        let synced = AcknowledgedKeys()
        let writers = 8
        let taken = try powerLosses(of: mem, while: writers, writersRecordingIn: synced) { t in
            for i in 0..<60 {
                let key = bytes("b\(t)-\(i)")
                try db.put(key, key, options: WriteOptions(sync: true))
                synced.add(key)
            }
        }
        #expect(db.statistics.value(.walSyncedWriters) == UInt64(writers * 60))
        try db.close()
        #expect(!taken.isEmpty)
        var checked = 0
        for (acknowledged, copy) in taken.suffix(6) {
            let reopened = try DB.open(at: "/db", options: noSwitchOptions(copy))
            for key in acknowledged {
                #expect(try reopened.get(key) == key, "\(String(decoding: key, as: UTF8.self))")
                checked += 1
            }
            try reopened.close()
        }
        #expect(checked > 0)
    }
}
