import Glibc
import Synchronization
import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Every (key, value) an iterator shows, in order.
func allEntries(_ it: DBIterator) throws -> [([UInt8], [UInt8])] {
    var result: [([UInt8], [UInt8])] = []
    it.seekToFirst()
    while it.isValid {
        result.append((it.key, it.value))
        it.next()
    }
    if let e = it.error { throw e }
    return result
}

func entriesEqual(_ a: [([UInt8], [UInt8])], _ b: [([UInt8], [UInt8])]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
}

struct CheckpointTests {
    @Test func checkpointUnderConcurrentWritersEqualsTheSourceAtItsSequence() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        let writers = 3
        let perWriter = 4000
        // The highest n each writer has had acknowledged.
        let acked = Mutex([Int](repeating: -1, count: writers))
        let result = Mutex<(CheckpointInfo, Snapshot, [Int])?>(nil)
        try runConcurrently(writers + 1) { i in
            if i < writers {
                for n in 0..<perWriter {
                    var batch = WriteBatch()
                    batch.put(bytes("w\(i)-\(n)"), bytes("value-\(i)-\(n)-" + String(repeating: "x", count: 40)))
                    batch.put(bytes("hot-\(n % 37)"), bytes("\(i)-\(n)"))
                    if n % 5 == 0 && n > 0 { batch.delete(bytes("w\(i)-\(n - 1)")) }
                    try db.write(batch)
                    acked.withLock { $0[i] = n }
                    // Half of the writes come after the checkpoint: it must not see them.
                    if n == 2 * perWriter / 3 {
                        while result.withLock({ $0 == nil }) { sched_yield() }
                    }
                }
            } else {
                // Start once the writers are well under way (flushes have happened).
                while acked.withLock({ $0.min() ?? 0 }) < perWriter / 3 { sched_yield() }
                let before = acked.withLock { $0 }
                let (info, snapshot) = try db.checkpointPinningSnapshot(to: dir.path + "/cp")
                result.withLock { $0 = (info, snapshot, before) }
            }
        }
        let (info, snapshot, before) = try #require(result.withLock { $0 })
        #expect(info.tableCount > 0)
        #expect(info.sequence < db.latestSequence)
        #expect(!FileSystemProbe.exists(dir.path + "/cp.tmp"))

        let copy = try DB.open(at: dir.path + "/cp", options: smallOptions())
        #expect(copy.latestSequence == info.sequence)
        // Every write acknowledged before the call began is there (or deleted by a later one).
        for i in 0..<writers {
            // Keys m with (m + 1) % 5 == 0 are deleted by write m + 1; every other one stays.
            for m in 0...max(before[i], 0) where before[i] >= 0 && (m + 1) % 5 != 0 {
                let expected = bytes("value-\(i)-\(m)-" + String(repeating: "x", count: 40))
                #expect(try copy.get(bytes("w\(i)-\(m)")) == expected)
            }
        }
        let expected = try allEntries(db.makeIterator(options: ReadOptions(snapshot: snapshot)))
        let actual = try allEntries(copy.makeIterator())
        #expect(entriesEqual(expected, actual))
        snapshot.release()

        // Both go on working independently.
        try copy.put(bytes("only-in-copy"), bytes("1"))
        try db.put(bytes("only-in-source"), bytes("1"))
        #expect(try db.get(bytes("only-in-copy")) == nil)
        #expect(try copy.get(bytes("only-in-source")) == nil)
        try copy.close()
        try db.close()
    }

    @Test func checkpointOpensReadOnlyAndHoldsLogOnlyWrites() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        for n in 0..<2000 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.flush()
        // These stay in the log only.
        for n in 0..<10 { try db.put(bytes("late\(n)"), bytes("v\(n)")) }
        let info = try db.checkpoint(to: dir.path + "/cp")
        try db.put(bytes("after"), bytes("x"))

        var ro = smallOptions()
        ro.readOnly = true
        let copy = try DB.open(at: dir.path + "/cp", options: ro)
        #expect(copy.latestSequence == info.sequence)
        #expect(try copy.get(bytes("k1999")) == bytes("v1999"))
        #expect(try copy.get(bytes("late9")) == bytes("v9"))
        #expect(try copy.get(bytes("after")) == nil)
        #expect(throws: StorageError.self) { try copy.put(bytes("x"), bytes("y")) }
        try copy.close()
        #expect(try db.get(bytes("after")) == bytes("x"))
        try db.close()
    }

    @Test func logCopyStopsAtThePinnedSequence() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let db = try DB.open(at: dir.path + "/db", options: smallOptions(background: false))
        for n in 1...10 { try db.put(bytes("k\(n)"), bytes("v\(n)")) }
        try db.close()
        let log = try #require(try fs.listDirectory(dir.path + "/db").first { $0.hasSuffix(".log") })
        let source = try fs.openReadable(dir.path + "/db/" + log)
        let copied = try DB.copyLog(source, upTo: 6, to: dir.path + "/copy.log", fileSystem: fs)
        #expect(copied.recordBytes > 0)
        // The checksum computed while writing is the copy's own.
        let written = try FileCopy.checksum(dir.path + "/copy.log", fileSystem: fs)
        #expect(written.size == copied.fileSize && written.crc == copied.crc)
        let reader = LogReader(file: try fs.openReadable(dir.path + "/copy.log"))
        var sequences: [SequenceNumber] = []
        while let record = try reader.readRecord() { sequences.append(try WriteBatch(decoding: record).sequence) }
        #expect(sequences == Array(1...6))
    }

    @Test func checkpointIntoAnExistingDirectoryIsRefused() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        try db.put(bytes("a"), bytes("1"))
        try PosixFileSystem().createDirectory(dir.path + "/taken")
        do {
            try db.checkpoint(to: dir.path + "/taken")
            Issue.record("a checkpoint into an existing directory was accepted")
        } catch let e as StorageError {
            #expect(e.code == .invalidArgument)
        }
        #expect(try PosixFileSystem().listDirectory(dir.path + "/taken").isEmpty)
        try db.close()
    }

    @Test func staleTempDirectoryOfACrashedCheckpointIsReplaced() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let db = try DB.open(at: dir.path + "/db", options: smallOptions())
        try db.put(bytes("a"), bytes("1"))
        try fs.createDirectory(dir.path + "/cp.tmp")
        let junk = try fs.createWritable(dir.path + "/cp.tmp/000099.sst")
        try junk.append(bytes("garbage"))
        try junk.close()
        try db.checkpoint(to: dir.path + "/cp")
        #expect(!fs.fileExists(dir.path + "/cp/000099.sst"))
        let copy = try DB.open(at: dir.path + "/cp")
        #expect(try copy.get(bytes("a")) == bytes("1"))
        try copy.close()
        try db.close()
    }
}

enum FileSystemProbe {
    static func exists(_ path: String) -> Bool { PosixFileSystem().fileExists(path) }
}
