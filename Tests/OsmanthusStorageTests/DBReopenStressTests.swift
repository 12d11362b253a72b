import Testing

@testable import OsmanthusStorage

/// Reopen cycles under background flush and compaction: after every close and reopen each key
/// must read back, and every table the manifest lists must still exist (a table deleted while
/// the manifest still named it made reopen fail with "listed in the manifest but missing").
struct DBReopenStressTests {
    @Test func overwriteCloseReopenKeepsEveryTable() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let seed: UInt64 = 0x5EED_0029
        var rng = SplitMix64(seed: seed)
        var options = smallOptions()
        options.memtableSize = 32 << 10
        options.targetFileSize = 32 << 10
        options.levelBaseSize = 128 << 10
        options.level0CompactionTrigger = 2
        var model: [Int: UInt64] = [:]
        let keyCount = 3000
        func key(_ i: Int) -> [UInt8] { Array(format5(i).utf8) }
        func value(_ i: Int, _ stamp: UInt64) -> [UInt8] {
            Array("\(i)-\(stamp)-".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: stamp), count: 80)
        }
        for cycle in 0..<12 {
            let db = try DB.open(at: dir.path, options: options)
            // Everything written before the last close is there.
            for (i, stamp) in model {
                let got = try db.get(key(i))
                #expect(got == value(i, stamp), "seed \(seed) cycle \(cycle) key \(i)")
                if got != value(i, stamp) { break }
            }
            for _ in 0..<2500 {
                let i = Int.random(in: 0..<keyCount, using: &rng)
                let stamp = rng.next()
                try db.put(key(i), value(i, stamp))
                model[i] = stamp
            }
            // Close while flushes and compactions are still in flight, as a benchmark does.
            try db.close()
        }
        let db = try DB.open(at: dir.path, options: options)
        var seen = 0
        let it = db.makeIterator()
        it.seekToFirst()
        while it.isValid {
            seen += 1
            it.next()
        }
        #expect(it.error == nil)
        #expect(seen == model.count)
        try db.close()
    }
}
