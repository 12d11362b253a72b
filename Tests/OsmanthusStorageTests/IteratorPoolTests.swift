import Testing

@testable import OsmanthusStorage

/// Read views hand bounded iterators back (`ReadView.recycle`) and later views reuse them
/// (`IteratorPool`): a reused iterator, narrowed to new bounds and read at a new sequence, must
/// show exactly what a fresh one would.
struct IteratorPoolTests {
    /// The entries of `model` in [lo, hi) (empty `hi`: no end), in key order.
    private func expected(_ model: [[UInt8]: [UInt8]], _ lo: [UInt8], _ hi: [UInt8]) -> [[UInt8]] {
        model.filter { compareBytes($0.key, lo) >= 0 && (hi.isEmpty || compareBytes($0.key, hi) < 0) }
            .sorted { compareBytes($0.key, $1.key) < 0 }
            .map { $0.key + [0] + $0.value }
    }

    /// Walks [lo, hi) as index scans do: seek and next forward, or from the end with prev.
    private func walk(_ it: DBIterator, _ lo: [UInt8], _ hi: [UInt8], backward: Bool) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if backward {
            if hi.isEmpty { it.seekToLast() } else {
                it.seekForPrev(hi)
                if it.isValid, it.key == hi { it.prev() }
            }
            while it.isValid, compareBytes(it.key, lo) >= 0 {
                out.append(it.key + [0] + it.value)
                it.prev()
            }
            return out.reversed()
        }
        it.seek(lo)
        while it.isValid, hi.isEmpty || compareBytes(it.key, hi) < 0 {
            out.append(it.key + [0] + it.value)
            it.next()
        }
        return out
    }

    private func key(_ i: Int) -> [UInt8] { Array(format5(i).utf8) }

    /// Bounds that fall on table edges (a table's smallest or largest user key, or just past
    /// it) half the time, random keys otherwise.
    private func randomBounds(_ db: DB, _ rng: inout SplitMix64) -> ([UInt8], [UInt8]) {
        let files = db.versions.current.levels.flatMap { $0 }
        func edge() -> [UInt8]? {
            guard let f = files.randomElement(using: &rng) else { return nil }
            let k = Array(InternalKey.userKey(Bool.random(using: &rng) ? f.smallest : f.largest))
            return Bool.random(using: &rng) ? k : k + [0]
        }
        let a = Int.random(in: 0...520, using: &rng)
        var lo = (Bool.random(using: &rng) ? edge() : nil) ?? key(a)
        var hi: [UInt8]
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: hi = []
        case 1: hi = edge() ?? []
        default: hi = key(a + [1, 3, 40, 600][Int.random(in: 0..<4, using: &rng)])
        }
        if !hi.isEmpty && compareBytes(hi, lo) < 0 { swap(&lo, &hi) }
        return (lo, hi)
    }

    @Test(arguments: [UInt64(0x9001), 0x9002, 0x9003])
    func reusedIteratorsShowWhatTheModelHolds(seed: UInt64) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        var rng = SplitMix64(seed: seed)
        var model: [[UInt8]: [UInt8]] = [:]
        // Views kept across later writes, with the model as they saw it.
        var held: [(ReadView, [[UInt8]: [UInt8]], Snapshot?)] = []
        var reused = 0
        for step in 0..<600 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                // A burst of writes: overwrites and deletes land in the memtable over older tables.
                for _ in 0..<Int.random(in: 1...40, using: &rng) {
                    let k = key(Int.random(in: 0..<500, using: &rng))
                    if Int.random(in: 0..<4, using: &rng) == 0 {
                        try db.delete(k)
                        model[k] = nil
                    } else {
                        let v = Array("v\(step)-\(Int.random(in: 0..<1000, using: &rng))".utf8)
                        try db.put(k, v)
                        model[k] = v
                    }
                }
            case 5:
                try db.flush()
            case 6:
                if Int.random(in: 0..<4, using: &rng) == 0 { try db.compactRange() }
            case 7:
                let snapshot = Bool.random(using: &rng) ? db.snapshot() : nil
                held.append((db.readView(at: snapshot), model, snapshot))
            default:
                break
            }
            // Reads from a fresh view, and from one held since earlier writes.
            var views = [(db.readView(), model)]
            if let (view, seen, _) = held.randomElement(using: &rng) { views.append((view, seen)) }
            for (view, seen) in views {
                for _ in 0..<3 {
                    let (lo, hi) = randomBounds(db, &rng)
                    let backward = Bool.random(using: &rng)
                    let before = db.iteratorPool.count
                    let it = view.makeIterator(lowerBound: lo, upperBound: hi)
                    if db.iteratorPool.count < before { reused += 1 }
                    let got = walk(it, lo, hi, backward: backward)
                    #expect(got == expected(seen, lo, hi), "seed \(seed) step \(step): [\(lo), \(hi)) backward \(backward)")
                    #expect(it.error == nil)
                    view.recycle(it)
                }
            }
            if held.count > 4 {
                let (_, _, snapshot) = held.removeFirst()
                snapshot?.release()
            }
        }
        for (_, _, snapshot) in held { snapshot?.release() }
        #expect(reused > 100, "seed \(seed): the pool was used \(reused) times")
        try db.close()
        #expect(db.iteratorPool.count == 0)
    }

    @Test func aRecycledIteratorIsReusedOnlyForTheSameVersionAndMemtables() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        for i in 0..<300 { try db.put(key(i), Array("a\(i)".utf8)) }
        try db.flush()
        let view = db.readView()
        let first = view.makeIterator(lowerBound: key(10), upperBound: key(20))
        view.recycle(first)
        #expect(db.iteratorPool.count == 1)
        // Same state: taken again (the same object), narrowed to the new bounds.
        let again = db.readView().makeIterator(lowerBound: key(200), upperBound: key(203))
        #expect(again === first)
        #expect(walk(again, key(200), key(203), backward: false).count == 3)
        db.readView().recycle(again)
        // A write makes the memtable non-empty: another set of sources, so a new iterator.
        try db.put(key(201), Array("b".utf8))
        let fresh = db.readView().makeIterator(lowerBound: key(200), upperBound: key(203))
        #expect(fresh !== first)
        #expect(walk(fresh, key(200), key(203), backward: false)[1] == key(201) + [0] + Array("b".utf8))
        // Handing back an iterator over the newer state drops the stale one.
        db.readView().recycle(fresh)
        #expect(db.iteratorPool.count == 1)
        #expect(db.readView().makeIterator(lowerBound: key(0), upperBound: key(1)) === fresh)
        try db.close()
    }

    @Test func pooledIteratorsDoNotKeepObsoleteTablesOnDisk() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        for round in 0..<3 {
            for i in 0..<300 { try db.put(key(i), Array("r\(round)-\(i)".utf8)) }
            try db.flush()
        }
        let tablesBefore = Set(db.versions.current.allFileNumbers)
        do {
            // The view itself pins the version too: only the pooled iterator may outlive it.
            let view = db.readView()
            view.recycle(view.makeIterator(lowerBound: key(0), upperBound: []))
        }
        #expect(db.iteratorPool.count == 1)
        try db.compactRange()
        #expect(db.iteratorPool.count == 0)
        // compactRange holds the version it started from while it runs: the next flush's
        // cleanup deletes what nothing pins any more (the pool pins nothing by then).
        try db.put(key(1), Array("after".utf8))
        try db.flush()
        let onDisk = try db.fileSystem.listDirectory(dir.path).compactMap { name -> UInt64? in
            if case .table(let n) = DBFiles.parse(name) { return n }
            return nil
        }
        #expect(Set(onDisk).isDisjoint(with: tablesBefore.subtracting(db.versions.current.allFileNumbers)))
        try db.close()
    }
}
