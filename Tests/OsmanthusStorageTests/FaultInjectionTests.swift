import Glibc
import Testing

@testable import OsmanthusStorage

/// The engine under failing I/O and power loss, through `FaultInjectionFileSystem` over
/// `MemFileSystem` (leveldb's `db/fault_injection_test.cc`): a failed write stops the database,
/// and nothing acknowledged is lost, after a restart or a power loss.
struct FaultInjectionTests {
    struct Fault: Sendable, CustomTestStringConvertible {
        let operation: FaultInjectionFileSystem.Operation
        let pathContains: String
        let code: StorageError.Code
        let errno: Int32
        var testDescription: String { "\(operation) of \(pathContains) fails with \(code)" }
    }

    static let faults: [Fault] = [
        Fault(operation: .sync, pathContains: ".log", code: .io, errno: EIO),
        Fault(operation: .write, pathContains: ".log", code: .noSpace, errno: ENOSPC),
        Fault(operation: .create, pathContains: ".sst", code: .noSpace, errno: ENOSPC),
        Fault(operation: .write, pathContains: ".sst", code: .noSpace, errno: ENOSPC),
        Fault(operation: .sync, pathContains: "MANIFEST", code: .io, errno: EIO),
    ]

    /// Writes numbered batches (every third synced) until one fails; checks that the database
    /// then refuses writes, and that a restart and a power loss both keep every acknowledged
    /// batch (every synced one, for the power loss) and apply batches whole, in order.
    @Test(arguments: faults, [true, false])
    func failedWriteStopsTheDatabaseAndLosesNothingAcknowledged(fault: Fault, background: Bool) throws {
        let base = MemFileSystem()
        let fs = FaultInjectionFileSystem(base: base)
        let options = smallOptions(fs, background: background)
        let db = try DB.open(at: "/db", options: options)
        var acked = -1
        var synced = -1
        var failure: (any Error)?
        for n in 0..<3000 {
            if n == 20 {
                fs.inject(fault.operation, code: fault.code, errno: fault.errno, pathContains: fault.pathContains)
            }
            do {
                try db.write(NumberedBatches.batch(n), options: WriteOptions(sync: n % 3 == 0))
            } catch {
                failure = error
                break
            }
            acked = n
            if n % 3 == 0 { synced = n }
        }
        #expect((failure as? StorageError)?.code == fault.code, "\(String(describing: failure))")
        #expect(acked >= 19)
        let powerLoss = base.crashClone()

        // Stopped: writes fail even with the fault gone, until the database is reopened.
        fs.clearFaults()
        #expect(db.backgroundError?.code == fault.code)
        #expect { try db.write(NumberedBatches.batch(acked + 1)) } throws: {
            ($0 as? StorageError)?.code == fault.code
        }
        #expect(try db.get(NumberedBatches.key(acked, 0)) == NumberedBatches.value(acked, 0))
        try db.close()

        let reopened = try DB.open(at: "/db", options: options)
        let h = try NumberedBatches.appliedPrefix(reopened).get()
        #expect((acked...(acked + 1)).contains(h), "acknowledged through \(acked), reopened with \(h)")
        try reopened.write(NumberedBatches.batch(h + 1), options: WriteOptions(sync: true))
        #expect(try NumberedBatches.appliedPrefix(reopened).get() == h + 1)
        try reopened.close()

        let crashed = try DB.open(at: "/db", options: smallOptions(powerLoss, background: background))
        let c = try NumberedBatches.appliedPrefix(crashed).get()
        #expect((synced...(acked + 1)).contains(c), "synced through \(synced), after power loss \(c)")
        try crashed.close()
    }

    /// Power losses (crash clones) taken while batches are written, some synced, and flushes
    /// and compactions run in the background: each clone holds batches 0…h for an h at or past
    /// the last synced batch — every synced batch, the others whole and in order.
    @Test(arguments: [1, 2] as [UInt64])
    func powerLossKeepsEverySyncedBatchAndAPrefixOfTheRest(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let fs = MemFileSystem()
        let db = try DB.open(at: "/data/db", options: smallOptions(fs))
        var synced = -1
        var clones: [(fs: MemFileSystem, synced: Int, written: Int)] = []
        for n in 0..<1000 {
            let sync = Int.random(in: 0..<4, using: &rng) == 0
            try db.write(NumberedBatches.batch(n), options: WriteOptions(sync: sync))
            if sync { synced = n }
            if Int.random(in: 0..<70, using: &rng) == 0 { clones.append((fs.crashClone(), synced, n)) }
        }
        try db.close()
        #expect(clones.count >= 5)
        for clone in clones {
            let crashed = try DB.open(at: "/data/db", options: smallOptions(clone.fs))
            let h = try NumberedBatches.appliedPrefix(crashed).get()
            #expect(
                (clone.synced...clone.written).contains(h),
                "seed \(seed): synced through \(clone.synced), written \(clone.written), recovered \(h)")
            try crashed.close()
        }
    }

    /// Unsynced writes left in the log a memtable switch retires are synced with it: a later
    /// synced write never survives a power loss that the earlier writes do not.
    @Test func syncedWriteAfterMemtableSwitchKeepsEarlierUnsyncedWrites() throws {
        let fs = MemFileSystem()
        let db = try DB.open(at: "/db", options: smallOptions(fs, background: false))
        let value = [UInt8](repeating: 7, count: 1000)
        // 64 KiB memtables: the switch comes after about 64 writes; the full memtable is not
        // flushed until the next switch.
        for i in 0..<100 { try db.put(Array("u\(format5(i))".utf8), value) }
        #expect(db.levelFileCounts[0] == 0)
        try db.put(Array("synced".utf8), value, options: WriteOptions(sync: true))
        let crashed = fs.crashClone()
        try db.close()
        let reopened = try DB.open(at: "/db", options: smallOptions(crashed, background: false))
        #expect(try reopened.get(Array("synced".utf8)) == value)
        for i in 0..<100 { #expect(try reopened.get(Array("u\(format5(i))".utf8)) == value, "u\(i)") }
        try reopened.close()
    }

    /// When the retired log cannot be synced at a switch, its tail is unknown: the write fails
    /// and the database refuses writes from then on.
    @Test func failedSyncOfTheRetiredLogStopsWrites() throws {
        let fs = FaultInjectionFileSystem(base: MemFileSystem())
        let db = try DB.open(at: "/db", options: smallOptions(fs, background: false))
        fs.inject(.sync, code: .io, errno: EIO, pathContains: ".log")
        let value = [UInt8](repeating: 7, count: 1000)
        var acked = 0
        var failure: (any Error)?
        for i in 0..<200 {
            do { try db.put(Array("u\(format5(i))".utf8), value) } catch {
                failure = error
                break
            }
            acked = i + 1
        }
        #expect((failure as? StorageError)?.code == .io)
        #expect(acked > 10 && acked < 200)
        fs.clearFaults()
        #expect(db.backgroundError?.code == .io)
        #expect { try db.put(Array("later".utf8), value) } throws: { ($0 as? StorageError)?.code == .io }
        try db.close()
        let reopened = try DB.open(at: "/db", options: smallOptions(fs, background: false))
        for i in 0..<acked { #expect(try reopened.get(Array("u\(format5(i))".utf8)) == value) }
        try reopened.close()
    }

    /// A new database directory is durable with the first synced write: its entry in the
    /// parent directories is synced too, not only its own contents.
    @Test func newDatabaseDirectorySurvivesPowerLoss() throws {
        let fs = MemFileSystem()
        let db = try DB.open(at: "/srv/data/db", options: smallOptions(fs))
        try db.put(Array("k".utf8), Array("v".utf8), options: WriteOptions(sync: true))
        let crashed = fs.crashClone()
        try db.close()
        var o = smallOptions(crashed)
        o.createIfMissing = false
        let reopened = try DB.open(at: "/srv/data/db", options: o)
        #expect(try reopened.get(Array("k".utf8)) == Array("v".utf8))
        try reopened.close()
    }
}
