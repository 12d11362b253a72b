import Testing

@testable import OsmanthusStorage

/// The borrowing point reads (`DB.get(bytes:)`, `DB.withValue(forKey:)` and the `ReadView`
/// forms) give `get`'s answers wherever the newest entry lives: the memtable, the immutable
/// memtable being flushed, or a table at any level.
struct PointReadTests {
    private func key(_ i: Int) -> [UInt8] { Array("key\(1000 + i)".utf8) }

    /// Every form of point read for `k`, checked against `expected`.
    private func expectAllForms(_ db: DB, _ k: [UInt8], _ expected: [UInt8]?, _ note: Comment) throws {
        #expect(try db.get(k) == expected, note)
        let view = db.readView()
        try k.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
            #expect(try db.get(bytes: bytes) == expected, note)
            var calls = 0
            let lent = try db.withValue(forKey: bytes) { value -> [UInt8] in
                calls += 1
                return Array(value)
            }
            #expect(lent == expected, note)
            #expect(calls == (expected == nil ? 0 : 1), note)
            #expect(try view.get(bytes: bytes) == expected, note)
            #expect(try view.withValue(forKey: bytes) { Array($0) } == expected, note)
        }
    }

    @Test func borrowingReadsMatchAModelAcrossMemtableFlushAndCompaction() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        let seed: UInt64 = 0x9E7B_0001
        var rng = SplitMix64(seed: seed)
        var model: [Int: [UInt8]] = [:]
        for round in 0..<6 {
            for _ in 0..<400 {
                let i = Int.random(in: 0..<300, using: &rng)
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    try db.delete(key(i))
                    model[i] = nil
                } else {
                    let v = rng.bytes(maxLength: 150)
                    try db.put(key(i), v)
                    model[i] = v
                }
            }
            // Alternate where the newest entries live: the memtable, tables, compacted tables.
            switch round % 3 {
            case 1: try db.flush()
            case 2: try db.compactRange()
            default: break
            }
            for i in 0..<310 {
                try expectAllForms(db, key(i), model[i], "seed \(seed) round \(round) key \(i)")
            }
        }
        try db.close()
    }

    @Test func zeroByteKeysAndEmptyValuesAreAnswered() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        try db.put([0], [1, 2])
        try db.put([0, 0], [3])
        try db.put([7], [])
        for (where_, flush) in [("memtable", false), ("table", true)] {
            if flush { try db.flush() }
            try expectAllForms(db, [0], [1, 2], Comment(rawValue: where_))
            try expectAllForms(db, [0, 0], [3], Comment(rawValue: where_))
            try expectAllForms(db, [7], [], Comment(rawValue: where_))
            try expectAllForms(db, [0, 0, 0], nil, Comment(rawValue: where_))
            try expectAllForms(db, [8], nil, Comment(rawValue: where_))
        }
        try db.close()
    }

    @Test func closedDatabaseRefusesBorrowingReads() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        try db.put([1], [2])
        try db.close()
        [UInt8]([1]).withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            #expect(throws: StorageError.self) { try db.get(bytes: bytes) }
            #expect(throws: StorageError.self) { try db.withValue(forKey: bytes) { $0.count } }
        }
    }
}
