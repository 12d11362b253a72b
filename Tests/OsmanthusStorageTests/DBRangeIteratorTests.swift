import Testing

@testable import OsmanthusStorage

/// `makeIterator(lowerBound:upperBound:)` merges only the tables meeting its bounds: within the
/// bounds it must show exactly what the full iterator shows.
struct DBRangeIteratorTests {
    /// Keys over a compacted level, several L0 tables, the memtable, overwrites and deletes.
    private func layeredDB(_ dir: TestDirectory) throws -> DB {
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        for i in 0..<2000 { try db.put(Array(format5(i).utf8), Array("base\(i)".utf8)) }
        try db.compactRange()
        // Narrow L0 tables (each covers one part of the key space), then memtable writes.
        for part in 0..<4 {
            for i in stride(from: part * 500, to: part * 500 + 500, by: 7) {
                try db.put(Array(format5(i).utf8), Array("l0-\(i)".utf8))
            }
            for i in stride(from: part * 500 + 3, to: part * 500 + 500, by: 11) { try db.delete(Array(format5(i).utf8)) }
            try db.flush()
        }
        for i in stride(from: 0, to: 2000, by: 13) { try db.put(Array(format5(i).utf8), Array("mem\(i)".utf8)) }
        return db
    }

    private func entries(_ it: DBIterator, from lo: [UInt8], below hi: [UInt8], backward: Bool) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if backward {
            it.seekForPrev(hi)
            if it.isValid, it.key == hi { it.prev() }
            while it.isValid, compareBytes(it.key, lo) >= 0 {
                out.append(it.key + [0] + it.value)
                it.prev()
            }
        } else {
            it.seek(lo)
            while it.isValid, compareBytes(it.key, hi) < 0 {
                out.append(it.key + [0] + it.value)
                it.next()
            }
        }
        return out
    }

    @Test func boundedIteratorShowsTheSameEntriesAsTheFullOneWithinItsBounds() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try layeredDB(dir)
        let seed: UInt64 = 0x5EED_4A11
        var rng = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let a = Int.random(in: 0...2100, using: &rng)
            let width = [1, 2, 10, 300, 2100][Int.random(in: 0..<5, using: &rng)]
            let lo = Array(format5(a).utf8)
            let hi = Array(format5(a + width).utf8)
            let backward = Bool.random(using: &rng)
            let want = entries(db.makeIterator(), from: lo, below: hi, backward: backward)
            let bounded = db.makeIterator(lowerBound: lo, upperBound: hi)
            let got = entries(bounded, from: lo, below: hi, backward: backward)
            #expect(got == want, "seed \(seed): [\(a), \(a + width)) backward \(backward)")
            #expect(bounded.error == nil)
        }
        try db.close()
    }

    @Test func emptyUpperBoundReadsToTheEndAtASnapshot() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try layeredDB(dir)
        let snapshot = db.snapshot()
        try db.put(Array(format5(1990).utf8), Array("after".utf8))
        try db.delete(Array(format5(1995).utf8))
        let lo = Array(format5(1900).utf8)
        let full = entries(db.makeIterator(options: ReadOptions(snapshot: snapshot)), from: lo, below: [0xFF], backward: false)
        let bounded = entries(
            db.makeIterator(options: ReadOptions(snapshot: snapshot), lowerBound: lo, upperBound: []), from: lo,
            below: [0xFF], backward: false)
        #expect(bounded == full)
        #expect(!bounded.isEmpty)
        // The write after the snapshot is not seen.
        #expect(!bounded.contains(Array(format5(1990).utf8) + [0] + Array("after".utf8)))
        snapshot.release()
        try db.close()
    }

    @Test func tablesOutsideTheBoundsAreNotMerged() throws {
        let v = Version(levels: [[], [], [], [], [], [], []])
        let file = FileMetadata(
            number: 1, size: 1, smallest: InternalKey.make(Array("b".utf8), 1, .value),
            largest: InternalKey.make(Array("d".utf8), 1, .value))
        #expect(Version.file(file, meets: Array("a".utf8), Array("b".utf8)) == false)
        #expect(Version.file(file, meets: Array("a".utf8), Array("b\0".utf8)))
        #expect(Version.file(file, meets: Array("d".utf8), []))
        #expect(Version.file(file, meets: Array("d\0".utf8), []) == false)
        #expect(v.iterators(tables: TableCache(directory: "/nonexistent", fileSystem: MemFileSystem(), blockCache: nil),
                            fillCache: false, lowerBound: [], upperBound: []).isEmpty)
    }
}
