import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Compaction into the bottom level writes values every reader sees with sequence 0.
struct BottomLevelSequenceTests {
    /// Every entry of every table, with its level, read straight from the files.
    private func tableEntries(_ db: DB) throws -> [(level: Int, key: [UInt8], value: [UInt8])] {
        let version = db.monitor.withLock { db.versions.current }
        var result: [(level: Int, key: [UInt8], value: [UInt8])] = []
        for (level, files) in version.levels.enumerated() {
            for f in files {
                let it = try db.tables.table(f.number).makeIterator(fillCache: false)
                it.seekToFirst()
                while it.isValid {
                    result.append((level, it.key, it.value))
                    it.next()
                }
            }
        }
        return result
    }

    @Test func valuesEveryReaderSeesGetSequenceZeroAtTheBottom() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let count = 3000
        do {
            let db = try DB.open(at: dir.path, options: smallOptions(background: false))
            for i in 0..<count { try db.put(bytes(format5(i)), bytes("value \(i)")) }
            try db.delete(bytes(format5(7)))
            try db.compactRange()
            let entries = try tableEntries(db)
            #expect(entries.count == count - 1)
            let levels = Set(entries.map(\.level))
            #expect(levels.count == 1 && !levels.contains(0))
            for e in entries {
                #expect(InternalKey.sequence(e.key) == 0)
                #expect(InternalKey.kind(e.key) == .value)
            }
            try db.close()
        }
        // Reopened: the sequence counter did not go back, and a new write shadows a zeroed one.
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        #expect(db.latestSequence == UInt64(count + 1))
        #expect(try db.get(bytes(format5(7))) == nil)
        #expect(try db.get(bytes(format5(8))) == bytes("value 8"))
        try db.put(bytes(format5(8)), bytes("newer"))
        #expect(try db.get(bytes(format5(8))) == bytes("newer"))
        try db.compactRange()
        #expect(try db.get(bytes(format5(8))) == bytes("newer"))
        try db.close()
    }

    @Test func versionsNewerThanALiveSnapshotKeepTheirSequences() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        for i in 0..<500 { try db.put(bytes(format5(i)), bytes("old")) }
        let snap = db.snapshot()
        for i in 0..<500 { try db.put(bytes(format5(i)), bytes("new")) }
        try db.compactRange()

        let entries = try tableEntries(db)
        #expect(entries.count == 1000)
        for e in entries {
            if e.value == bytes("new") {
                #expect(InternalKey.sequence(e.key) > snap.sequence)
            } else {
                // Older than every snapshot, so zeroed; the newer version still sorts first.
                #expect(InternalKey.sequence(e.key) == 0)
            }
        }
        #expect(try db.get(bytes(format5(42)), options: ReadOptions(snapshot: snap)) == bytes("old"))
        #expect(try db.get(bytes(format5(42))) == bytes("new"))

        snap.release()
        try db.compactRange()
        let after = try tableEntries(db)
        #expect(after.count == 500)
        #expect(after.allSatisfy { InternalKey.sequence($0.key) == 0 && $0.value == bytes("new") })
        try db.close()
    }
}
