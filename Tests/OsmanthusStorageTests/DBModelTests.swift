import Glibc
import Testing

@testable import OsmanthusStorage

/// The same random operations against the engine and a plain dictionary; any difference fails
/// with the seed, so a failure can be replayed with `OSMANTHUS_SEED`.
struct DBModelTests {
    struct Model {
        var map: [[UInt8]: [UInt8]] = [:]
        func sortedKeys() -> [[UInt8]] { map.keys.sorted { compareBytes($0, $1) < 0 } }
    }

    static func seeds() -> [UInt64] {
        if let s = getenvString("OSMANTHUS_SEED"), let seed = UInt64(s) { return [seed] }
        return [1, 2, 3, 0xC0FFEE]
    }

    @Test(arguments: seeds())
    func randomOperationsMatchADictionary(seed: UInt64) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: seed)
        let options = smallOptions(background: seed % 2 == 0)
        var db = try DB.open(at: dir.path, options: options)
        var model = Model()
        var snapshots: [(Snapshot, Model)] = []
        func key() -> [UInt8] { Array("k\(Int.random(in: 0..<600, using: &rng))".utf8) }
        func value() -> [UInt8] {
            let n = Int.random(in: 0..<300, using: &rng)
            return (0..<n).map { _ in UInt8.random(in: 97...100, using: &rng) }
        }
        let steps = 4000
        for step in 0..<steps {
            let context = Comment(rawValue: "seed \(seed) step \(step)")
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<40:
                let (k, v) = (key(), value())
                try db.put(k, v)
                model.map[k] = v
            case 40..<52:
                let k = key()
                try db.delete(k)
                model.map[k] = nil
            case 52..<60:
                var batch = WriteBatch()
                for _ in 0..<Int.random(in: 1...20, using: &rng) {
                    let k = key()
                    if Bool.random(using: &rng) {
                        let v = value()
                        batch.put(k, v)
                        model.map[k] = v
                    } else {
                        batch.delete(k)
                        model.map[k] = nil
                    }
                }
                try db.write(batch)
            case 60..<80:
                let k = key()
                #expect(try db.get(k) == model.map[k], context)
                // The borrowing forms answer the same.
                try k.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
                    #expect(try db.get(bytes: bytes) == model.map[k], context)
                    #expect(try db.withValue(forKey: bytes) { Array($0) } == model.map[k], context)
                }
            case 80..<88:
                try checkScan(db, model, start: key(), forward: Bool.random(using: &rng), context)
            case 88..<92:
                if snapshots.count < 4 { snapshots.append((db.snapshot(), model)) }
            case 92..<95:
                if let (snap, old) = snapshots.popLast() {
                    let k = key()
                    #expect(try db.get(k, options: ReadOptions(snapshot: snap)) == old.map[k], context)
                    try k.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
                        let value = try db.withValue(forKey: bytes, options: ReadOptions(snapshot: snap)) { Array($0) }
                        #expect(value == old.map[k], context)
                        #expect(try db.readView(at: snap).get(bytes: bytes) == old.map[k], context)
                    }
                    try checkScan(db, old, start: key(), forward: true, context, snapshot: snap)
                }
            case 95..<97:
                try db.flush()
            case 97..<99:
                try db.compactRange()
            default:
                snapshots.removeAll()
                try db.close()
                db = try DB.open(at: dir.path, options: options)
            }
        }
        try checkScan(db, model, start: [], forward: true, Comment(rawValue: "seed \(seed) final"))
        try db.close()
    }

    private func checkScan(
        _ db: DB, _ model: Model, start: [UInt8], forward: Bool, _ context: Comment, snapshot: Snapshot? = nil
    ) throws {
        let it = db.makeIterator(options: ReadOptions(snapshot: snapshot))
        let keys = model.sortedKeys()
        var expected: [[UInt8]]
        if forward {
            it.seek(start)
            expected = Array(keys.filter { compareBytes($0, start) >= 0 }.prefix(25))
        } else {
            it.seekForPrev(start)
            expected = Array(keys.filter { compareBytes($0, start) <= 0 }.reversed().prefix(25))
        }
        var got: [[UInt8]] = []
        while it.isValid && got.count < 25 {
            got.append(it.key)
            #expect(it.value == model.map[it.key], context)
            if forward { it.next() } else { it.prev() }
        }
        #expect(it.error == nil, context)
        #expect(got == expected, context)
    }
}

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
