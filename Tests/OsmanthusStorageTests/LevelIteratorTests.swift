import Testing

@testable import OsmanthusStorage

/// Level iterators move one table iterator from table to table (`TableIterator.retarget`) and
/// cover only the tables a bounded iterator needs (`Version.filesMeeting`). Checked against a
/// sorted model over a database with many small tables per level.
struct LevelIteratorTests {
    /// Many small tables: every level iterator crosses tables often.
    private func manyTablesOptions() -> Options {
        var o = smallOptions(background: false)
        o.memtableSize = 16 << 10
        o.targetFileSize = 8 << 10
        o.blockSize = 512
        return o
    }

    private func key(_ i: Int) -> [UInt8] { Array(format5(i).utf8) }

    /// Fills a database (tables in L0 and deeper levels, a memtable) and returns its model.
    private func fill(_ db: DB, _ rng: inout SplitMix64) throws -> [[UInt8]: [UInt8]] {
        var model: [[UInt8]: [UInt8]] = [:]
        for step in 0..<4_000 {
            let k = key(Int.random(in: 0..<1_500, using: &rng))
            if Int.random(in: 0..<6, using: &rng) == 0 {
                try db.delete(k)
                model[k] = nil
            } else {
                let value = Array("v\(step)-".utf8) + rng.bytes(maxLength: 30)
                try db.put(k, value)
                model[k] = value
            }
            if step % 900 == 899 { try db.flush() }
            if step == 2_500 { try db.compactRange() }
        }
        return model
    }

    @Test func boundedWalksMatchTheSortedModel() throws {
        for round in 0..<2 {
            let seed = UInt64(0x1E7E_1000 + round)
            var rng = SplitMix64(seed: seed)
            let dir = TestDirectory()
            defer { dir.remove() }
            let db = try DB.open(at: dir.path, options: manyTablesOptions())
            let model = try fill(db, &rng)
            let levels = db.levelFileCounts
            #expect(levels.dropFirst().contains { $0 >= 4 }, "seed \(seed): a level with several tables \(levels)")
            let keys = model.keys.sorted { compareBytes($0, $1) < 0 }
            for walk in 0..<120 {
                var lo = Int.random(in: 0..<1_500, using: &rng)
                var hi = Int.random(in: 0..<1_500, using: &rng)
                if lo > hi { swap(&lo, &hi) }
                let lower = walk % 5 == 0 ? [] : key(lo)
                let upper = walk % 7 == 0 ? [] : key(hi + 1)
                let inBounds = keys.filter {
                    compareBytes($0, lower) >= 0 && (upper.isEmpty || compareBytes($0, upper) < 0)
                }
                let it = db.makeIterator(lowerBound: lower, upperBound: upper)
                let start = Int.random(in: lo...hi, using: &rng)
                it.seek(key(start))
                var position = inBounds.firstIndex { compareBytes($0, key(start)) >= 0 }
                for step in 0..<40 {
                    let note = "seed \(seed) walk \(walk) [\(lo), \(hi)] step \(step)"
                    guard let p = position else {
                        // Past the upper bound the iterator may show keys outside it; stop.
                        if upper.isEmpty { #expect(!it.isValid, "\(note)") }
                        break
                    }
                    #expect(it.isValid, "\(note)")
                    guard it.isValid else { break }
                    #expect(it.key == inBounds[p], "\(note)")
                    #expect(it.value == model[inBounds[p]], "\(note)")
                    if Int.random(in: 0..<3, using: &rng) == 0 {
                        // Before the lower bound the iterator may show keys outside it: stop there.
                        guard p > 0 || lower.isEmpty else { break }
                        it.prev()
                        position = p > 0 ? p - 1 : nil
                        if position == nil {
                            #expect(!it.isValid, "\(note)")
                            break
                        }
                    } else {
                        it.next()
                        position = p + 1 < inBounds.count ? p + 1 : nil
                    }
                }
                #expect(it.error == nil, "seed \(seed) walk \(walk)")
            }
            try db.close()
        }
    }

    @Test func filesMeetingIsTheFilteredRange() throws {
        let seed: UInt64 = 0xF11E_5EE7
        var rng = SplitMix64(seed: seed)
        for round in 0..<200 {
            // Disjoint sorted tables over user keys 0..<400, each a random span.
            var files: [FileMetadata] = []
            var next = Int.random(in: 0..<5, using: &rng)
            var number: UInt64 = 1
            while next < 400 {
                let last = next + Int.random(in: 0..<20, using: &rng)
                files.append(
                    FileMetadata(
                        number: number, size: 1, smallest: InternalKey.make(key(next), 9, .value),
                        largest: InternalKey.make(key(last), 3, .value)))
                number += 1
                next = last + 1 + Int.random(in: 0..<6, using: &rng)
            }
            let version = Version(levels: [[], files, [], [], [], [], []])
            for _ in 0..<20 {
                let lower = Int.random(in: 0..<5, using: &rng) == 0 ? [] : key(Int.random(in: 0..<420, using: &rng))
                let upper = Int.random(in: 0..<5, using: &rng) == 0 ? [] : key(Int.random(in: 0..<420, using: &rng))
                let expected = files.indices.filter { Version.file(files[$0], meets: lower, upper) }
                let range = version.filesMeeting(level: 1, lower, upper)
                if expected.isEmpty {
                    #expect(range.isEmpty, "seed \(seed) round \(round) \(lower) \(upper)")
                } else {
                    #expect(Array(range) == expected, "seed \(seed) round \(round) \(lower) \(upper)")
                }
            }
        }
    }
}
