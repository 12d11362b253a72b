import Testing

@testable import OsmanthusStorage

/// Opening a database writes the logs it recovers into L0. When L0 then holds two tables or
/// more (below the compaction trigger), they are compacted anyway: with no writes coming nothing
/// else would, and every read and seek merges each of them (SPEC.md §9.4).
struct RecoveredLevel0Tests {
    private func key(_ i: Int) -> [UInt8] { Array("key-\(100_000 + i)".utf8) }
    private func value(_ i: Int) -> [UInt8] { Array("value \(i)".utf8) }

    /// Writes keys 0..<600 in two halves, flushing after the first when `flushFirstHalf`, and
    /// closes: the second half stays in the log for the next open to recover. The 600 entries
    /// fit one memtable of `smallOptions`, so no other flush happens.
    private func writeAndClose(_ path: String, flushFirstHalf: Bool) throws {
        let db = try DB.open(at: path, options: smallOptions())
        for i in 0..<300 { try db.put(key(i), value(i)) }
        if flushFirstHalf { try db.flush() }
        for i in 300..<600 { try db.put(key(i), value(i)) }
        #expect(db.levelFileCounts[0] == (flushFirstHalf ? 1 : 0))
        try db.close()
    }

    private func expectAllKeys(_ db: DB) throws {
        for i in 0..<600 { #expect(try db.get(key(i)) == value(i), "key \(i)") }
        let it = db.makeIterator()
        var count = 0
        it.seekToFirst()
        while it.isValid {
            count += 1
            it.next()
        }
        #expect(it.error == nil)
        #expect(count == 600)
    }

    @Test func twoLevel0TablesAfterRecoveryAreCompactedWithoutWrites() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        try writeAndClose(dir.path, flushFirstHalf: true)
        let db = try DB.open(at: dir.path, options: smallOptions())
        defer { try? db.close() }
        try db.waitForBackgroundWork()
        let counts = db.levelFileCounts
        #expect(counts[0] == 0)
        #expect(counts.dropFirst().reduce(0, +) >= 1)
        try expectAllKeys(db)
    }

    @Test func oneLevel0TableAfterRecoveryStaysBelowTheTrigger() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        try writeAndClose(dir.path, flushFirstHalf: false)
        let db = try DB.open(at: dir.path, options: smallOptions())
        defer { try? db.close() }
        try db.waitForBackgroundWork()
        #expect(db.levelFileCounts[0] == 1)
        #expect(db.levelFileCounts.dropFirst().reduce(0, +) == 0)
        try expectAllKeys(db)
    }
}
