import Testing

@testable import OsmanthusStorage

/// A `ReadView` answers gets and bounded iterators as of the moment it was taken, with no
/// registered snapshot, while later writes, flushes and compactions go on.
struct ReadViewTests {
    private func key(_ i: Int) -> [UInt8] { Array(format5(i).utf8) }

    /// Every key of `model` in [lo, hi) through the view's bounded iterator, in order.
    private func scan(_ view: ReadView, _ lo: Int, _ hi: Int) -> [(Int, [UInt8])] {
        let it = view.makeIterator(lowerBound: key(lo), upperBound: key(hi))
        var out: [(Int, [UInt8])] = []
        it.seek(key(lo))
        while it.isValid, compareBytes(it.key, key(hi)) < 0 {
            out.append((Int(String(decoding: it.key, as: UTF8.self)) ?? -1, it.value))
            it.next()
        }
        return out
    }

    @Test func viewsKeepShowingTheirMomentThroughWritesFlushesAndCompactions() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let seed: UInt64 = 0x7EAD_B1E3
        var rng = SplitMix64(seed: seed)
        var model: [Int: [UInt8]] = [:]
        var views: [(ReadView, [Int: [UInt8]])] = []
        for round in 0..<12 {
            for _ in 0..<600 {
                let k = Int.random(in: 0..<1500, using: &rng)
                if Int.random(in: 0..<5, using: &rng) == 0 {
                    try db.delete(key(k))
                    model[k] = nil
                } else {
                    let v = Array("r\(round)-\(Int.random(in: 0..<1_000_000, using: &rng))".utf8)
                        + [UInt8](repeating: 7, count: Int.random(in: 0..<60, using: &rng))
                    try db.put(key(k), v)
                    model[k] = v
                }
            }
            if round % 4 == 3 { try db.compactRange() }
            views.append((db.readView(), model))
        }
        #expect(db.snapshots.count == 0, "a view registers no snapshot")
        for (n, (view, want)) in views.enumerated() {
            for _ in 0..<200 {
                let k = Int.random(in: 0..<1500, using: &rng)
                #expect(try view.get(key(k)) == want[k], "seed \(seed): view \(n), key \(k)")
            }
            let lo = Int.random(in: 0..<1400, using: &rng)
            let hi = lo + Int.random(in: 1...400, using: &rng)
            let got = scan(view, lo, hi)
            let expected = want.filter { $0.key >= lo && $0.key < hi }.sorted { $0.key < $1.key }
            #expect(got.map(\.0) == expected.map(\.key), "seed \(seed): view \(n), [\(lo), \(hi))")
            #expect(got.map(\.1) == expected.map(\.value), "seed \(seed): view \(n), [\(lo), \(hi)) values")
        }
        try db.close()
    }

    @Test func viewAtASnapshotReadsAtTheSnapshotsSequence() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        try db.put(key(1), Array("old".utf8))
        let snapshot = db.snapshot()
        defer { snapshot.release() }
        try db.put(key(1), Array("new".utf8))
        try db.put(key(2), Array("later".utf8))
        let view = db.readView(at: snapshot)
        #expect(view.sequence == snapshot.sequence)
        #expect(try view.get(key(1)) == Array("old".utf8))
        #expect(try view.get(key(2)) == nil)
        #expect(try db.readView().get(key(1)) == Array("new".utf8))
        #expect(scan(view, 0, 10).map(\.0) == [1])
        try db.close()
    }

    @Test func viewOfAClosedDatabaseFailsAsClosed() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        try db.put(key(1), Array("v".utf8))
        try db.close()
        let view = db.readView()
        #expect(throws: StorageError.self) { try view.get(key(1)) }
        let it = view.makeIterator(lowerBound: key(0), upperBound: key(10))
        it.seek(key(0))
        #expect(!it.isValid)
        #expect(it.error != nil)
    }
}
