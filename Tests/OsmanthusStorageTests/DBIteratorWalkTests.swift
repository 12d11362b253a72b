import Testing

@testable import OsmanthusStorage

/// `DBIterator` against a sorted model of the live keys: random seeks, nexts and prevs over a
/// database with tables in several levels, a memtable, overwrites and deletes, checking the
/// lent key and value (`withKey`/`withValue`) and the copies at every step.
struct DBIteratorWalkTests {
    @Test func randomWalksMatchTheSortedModel() throws {
        for round in 0..<3 {
            let seed = UInt64(0xDB17_0000 + round)
            var rng = SplitMix64(seed: seed)
            let dir = TestDirectory()
            defer { dir.remove() }
            let db = try DB.open(at: dir.path, options: smallOptions(background: false))
            var model: [[UInt8]: [UInt8]] = [:]
            for step in 0..<3_000 {
                let key = Array(format5(Int.random(in: 0..<800, using: &rng)).utf8)
                if Int.random(in: 0..<5, using: &rng) == 0 {
                    try db.delete(key)
                    model[key] = nil
                } else {
                    let value = Array("v\(step)-".utf8) + rng.bytes(maxLength: 40)
                    try db.put(key, value)
                    model[key] = value
                }
                if step % 700 == 699 { try db.flush() }
                if step == 2_000 { try db.compactRange() }
            }
            let keys = model.keys.sorted { compareBytes($0, $1) < 0 }
            let it = db.makeIterator()
            var position: Int? = nil
            for step in 0..<2_000 {
                let move = Int.random(in: 0..<10, using: &rng)
                if let p = position, move < 4 {
                    it.next()
                    position = p + 1 < keys.count ? p + 1 : nil
                } else if let p = position, move < 7 {
                    it.prev()
                    position = p > 0 ? p - 1 : nil
                } else if move < 9 {
                    let target = Array(format5(Int.random(in: 0..<820, using: &rng)).utf8)
                    it.seek(target)
                    let found = keys.firstIndex { compareBytes($0, target) >= 0 }
                    position = found
                } else if Bool.random(using: &rng) {
                    it.seekToFirst()
                    position = keys.isEmpty ? nil : 0
                } else {
                    it.seekToLast()
                    position = keys.isEmpty ? nil : keys.count - 1
                }
                guard let p = position else {
                    #expect(!it.isValid, "seed \(seed) step \(step)")
                    if it.isValid { break }
                    continue
                }
                #expect(it.isValid, "seed \(seed) step \(step)")
                guard it.isValid else { break }
                #expect(it.key == keys[p], "seed \(seed) step \(step)")
                #expect(it.withKey { Array($0) } == keys[p], "seed \(seed) step \(step)")
                #expect(it.value == model[keys[p]], "seed \(seed) step \(step)")
                #expect(it.withValue { Array($0) } == model[keys[p]], "seed \(seed) step \(step)")
                if it.key != keys[p] { break }
            }
            #expect(it.error == nil)
            try db.close()
        }
    }
}
