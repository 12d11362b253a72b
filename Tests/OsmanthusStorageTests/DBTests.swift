import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Options that make flushes and compactions happen with little data.
func smallOptions(_ fs: any FileSystem = PosixFileSystem(), background: Bool = true) -> Options {
    var o = Options()
    o.fileSystem = fs
    o.memtableSize = 64 << 10
    o.blockSize = 1024
    o.levelBaseSize = 256 << 10
    o.targetFileSize = 64 << 10
    o.blockCacheCapacity = 1 << 20
    o.backgroundWork = background
    return o
}

struct DBTests {
    @Test func putGetDeleteRoundTrip() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path)
        try db.put(bytes("a"), bytes("1"))
        try db.put(bytes("b"), bytes("2"))
        #expect(try db.get(bytes("a")) == bytes("1"))
        #expect(try db.get(bytes("b")) == bytes("2"))
        #expect(try db.get(bytes("c")) == nil)
        try db.delete(bytes("a"))
        #expect(try db.get(bytes("a")) == nil)
        try db.put(bytes("a"), [])
        #expect(try db.get(bytes("a")) == [])
        try db.close()
    }

    @Test func writesSurviveReopenWithoutFlush() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        do {
            let db = try DB.open(at: dir.path)
            for i in 0..<1000 { try db.put(bytes("key\(i)"), bytes("value\(i)")) }
            try db.delete(bytes("key7"))
            try db.close()
        }
        let db = try DB.open(at: dir.path)
        #expect(try db.get(bytes("key999")) == bytes("value999"))
        #expect(try db.get(bytes("key7")) == nil)
        #expect(db.latestSequence == 1001)
        try db.close()
    }

    @Test func dataSurvivesFlushCompactionAndReopen() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let value = [UInt8](repeating: 0x61, count: 100)
        do {
            let db = try DB.open(at: dir.path, options: smallOptions())
            for i in 0..<5000 { try db.put(bytes(String(format5(i))), value + bytes("\(i)")) }
            for i in stride(from: 0, to: 5000, by: 3) { try db.delete(bytes(format5(i))) }
            try db.compactRange()
            #expect(db.levelFileCounts[0] == 0)
            try db.close()
        }
        let db = try DB.open(at: dir.path, options: smallOptions())
        for i in 0..<5000 {
            let got = try db.get(bytes(format5(i)))
            #expect(got == (i % 3 == 0 ? nil : value + bytes("\(i)")), "key \(i)")
        }
        try db.close()
    }

    @Test func iteratorScansForwardAndBackwardSkippingDeletions() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        for i in 0..<300 { try db.put(bytes(format5(i)), bytes("v\(i)")) }
        try db.flush()
        for i in stride(from: 0, to: 300, by: 2) { try db.delete(bytes(format5(i))) }
        try db.put(bytes(format5(1)), bytes("new"))
        let it = db.makeIterator()
        var forward: [String] = []
        it.seekToFirst()
        while it.isValid {
            forward.append(String(decoding: it.key, as: UTF8.self))
            it.next()
        }
        #expect(it.error == nil)
        #expect(forward == (0..<300).filter { $0 % 2 == 1 }.map(format5))
        var backward: [String] = []
        it.seekToLast()
        while it.isValid {
            backward.append(String(decoding: it.key, as: UTF8.self))
            it.prev()
        }
        #expect(backward == forward.reversed())
        it.seek(bytes(format5(1)))
        #expect(it.isValid && it.value == bytes("new"))
        it.seek(bytes(format5(2)))
        #expect(it.isValid && it.key == bytes(format5(3)))
        it.prev()
        #expect(it.isValid && it.key == bytes(format5(1)))
        it.next()
        it.next()
        #expect(it.isValid && it.key == bytes(format5(5)))
        try db.close()
    }

    @Test func snapshotSeesStateAtItsCreationWhileWritesContinue() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        for i in 0..<100 { try db.put(bytes(format5(i)), bytes("old")) }
        let snap = db.snapshot()
        for i in 0..<100 { try db.put(bytes(format5(i)), bytes("new")) }
        try db.delete(bytes(format5(5)))
        try db.compactRange()
        #expect(try db.get(bytes(format5(5)), options: ReadOptions(snapshot: snap)) == bytes("old"))
        #expect(try db.get(bytes(format5(6)), options: ReadOptions(snapshot: snap)) == bytes("old"))
        #expect(try db.get(bytes(format5(6))) == bytes("new"))
        #expect(try db.get(bytes(format5(5))) == nil)
        let it = db.makeIterator(options: ReadOptions(snapshot: snap))
        it.seekToFirst()
        var count = 0
        while it.isValid {
            #expect(it.value == bytes("old"))
            count += 1
            it.next()
        }
        #expect(count == 100)
        snap.release()
        try db.close()
    }

    @Test func batchIsAppliedAtomically() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path)
        var batch = WriteBatch()
        batch.put(bytes("x"), bytes("1"))
        batch.put(bytes("y"), bytes("2"))
        batch.delete(bytes("x"))
        try db.write(batch)
        #expect(try db.get(bytes("x")) == nil)
        #expect(try db.get(bytes("y")) == bytes("2"))
        try db.close()
    }

    @Test func secondOpenOfSameDirectoryIsBusy() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path)
        #expect {
            _ = try DB.open(at: dir.path)
        } throws: { ($0 as? StorageError)?.code == .busy }
        try db.close()
        let again = try DB.open(at: dir.path)
        try again.close()
    }

    @Test func invalidArgumentsAndClosedDatabaseAreClearErrors() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path)
        #expect { try db.put([], bytes("v")) } throws: { ($0 as? StorageError)?.code == .invalidArgument }
        let huge = [UInt8](repeating: 1, count: Limits.maxKeySize + 1)
        #expect { try db.put(huge, bytes("v")) } throws: { ($0 as? StorageError)?.code == .limit }
        try db.close()
        #expect { try db.put(bytes("k"), bytes("v")) } throws: { ($0 as? StorageError)?.code == .closed }
        #expect { _ = try db.get(bytes("k")) } throws: { ($0 as? StorageError)?.code == .closed }
    }

    @Test func openingMissingDatabaseWithoutCreateIsNotFound() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var o = Options()
        o.createIfMissing = false
        #expect { _ = try DB.open(at: dir.path + "/nope", options: o) } throws: {
            ($0 as? StorageError)?.code == .notFound
        }
    }

    @Test func concurrentWritersAllLand() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let threads = 8
        let perThread = 500
        try runConcurrently(threads) { t in
            for i in 0..<perThread {
                try db.put(bytes("t\(t)-\(i)"), bytes("\(i)"), options: WriteOptions(sync: i % 50 == 0))
            }
        }
        for t in 0..<threads {
            for i in 0..<perThread { #expect(try db.get(bytes("t\(t)-\(i)")) == bytes("\(i)")) }
        }
        #expect(db.statistics.value(.keysWritten) == UInt64(threads * perThread))
        try db.close()
    }

    @Test func spaceAmplificationStaysBoundedUnderOverwrites() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var o = smallOptions()
        o.compressionPerLevel = [.none]
        let db = try DB.open(at: dir.path, options: o)
        let keys = 8000
        var rng = SplitMix64(seed: 7)
        for round in 0..<12 {
            for i in 0..<keys {
                var v = [UInt8](repeating: 0, count: 200)
                for j in 0..<v.count { v[j] = UInt8(truncatingIfNeeded: rng.next() &+ UInt64(round)) }
                try db.put(bytes(format5(i)), v)
            }
        }
        try db.flush()
        try db.waitForBackgroundWork()
        let settled = db.levelSizes.reduce(0, +)
        try db.compactRange()
        let live = db.levelSizes.reduce(0, +)
        // SPEC.md §9.4: once compaction has caught up, levels above the bottom hold at most
        // ~1/9 of it; L0 adds at most `level0CompactionTrigger` memtables; each level above
        // the bottom may hold its minimum target.
        let allowance = UInt64(o.level0CompactionTrigger * o.memtableSize) + 5 * db.picker.minimumLevelTarget
        #expect(settled <= live + live / 4 + allowance, "settled \(settled) live \(live)")
        #expect(live > UInt64(keys * 200))
        try db.close()
    }
}

func format5(_ i: Int) -> String {
    let s = String(i)
    return String(repeating: "0", count: max(0, 5 - s.count)) + s
}
