import Testing

@testable import OsmanthusStorage

/// The skiplist's search orders most nodes by their first 8 key bytes alone: keys around that
/// length, sharing those bytes or not, must still land in `InternalKey.compare` order.
struct SkipListTests {
    static func seeds() -> [UInt64] {
        if let s = getenvString("OSMANTHUS_SEED"), let seed = UInt64(s) { return [seed] }
        return [3, 5, 0x5EED_0010]
    }

    /// Inserts an internal key (user key ‖ trailer) split as the skiplist takes it.
    static func insert(_ key: [UInt8], _ value: [UInt8], into list: SkipList, ascending: Bool) {
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                list.insert(
                    userKey: UnsafeRawBufferPointer(rebasing: k[0..<(k.count - 8)]),
                    trailer: UInt64(littleEndian: k.loadUnaligned(fromByteOffset: k.count - 8, as: UInt64.self)),
                    value: v, ascending: ascending)
            }
        }
    }

    /// Every key in level-0 order.
    /// A skiplist and the sorted model it must match: each user key gets the next sequence, and
    /// an internal key already inserted is skipped.
    struct ModelList {
        let list = SkipList()
        private var model: [[UInt8]] = []
        private var seen = Set<[UInt8]>()
        private(set) var sequence: UInt64 = 1_000

        mutating func insert(_ user: [UInt8], ascending: Bool) {
            let key = InternalKey.make(user, sequence, .value)
            sequence += 1
            guard seen.insert(key).inserted else { return }
            SkipListTests.insert(key, Array("v\(model.count)".utf8), into: list, ascending: ascending)
            model.append(key)
        }

        var sorted: [[UInt8]] { model.sorted { InternalKey.compare($0, $1) < 0 } }
    }

    static func keys(of list: SkipList) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var node = list.first
        while let n = node {
            keys.append(Array(n.key))
            node = n.next(0)
        }
        return keys
    }

    @Test(arguments: seeds())
    func insertsAndSearchesMatchASortedModel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        // A few 8-byte stems, so many keys share their first word and differ after it (or are
        // the stem itself, or a prefix of it); bytes 0x00 and 0xFF test signedness.
        let alphabet: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF]
        let stems = (0..<4).map { _ in (0..<8).map { _ in alphabet[Int(rng.next() % 5)] } }
        func userKey() -> [UInt8] {
            let stem = stems[Int(rng.next() % UInt64(stems.count))]
            switch rng.next() % 4 {
            case 0: return Array(stem[0..<Int(rng.next() % 9)])
            case 1: return stem
            default: return stem + (0..<Int(1 + rng.next() % 10)).map { _ in alphabet[Int(rng.next() % 5)] }
            }
        }
        let list = SkipList()
        var model: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for _ in 0..<4_000 {
            let key = InternalKey.make(userKey(), rng.next() % 50, rng.next() % 3 == 0 ? .deletion : .value)
            guard seen.insert(key).inserted else { continue }
            Self.insert(key, Array("v\(model.count)".utf8), into: list, ascending: false)
            model.append(key)
        }
        model.sort { InternalKey.compare($0, $1) < 0 }

        #expect(Self.keys(of: list) == model, "seed \(seed)")

        for _ in 0..<2_000 {
            let target = InternalKey.make(userKey(), rng.next() % 50, .value)
            let ge = model.first { InternalKey.compare($0, target) >= 0 }
            let lt = model.last { InternalKey.compare($0, target) < 0 }
            target.withUnsafeBytes { t in
                #expect(list.findGreaterOrEqual(t).map { Array($0.key) } == ge, "seed \(seed) target \(target)")
                #expect(list.findLessThan(t).map { Array($0.key) } == lt, "seed \(seed) target \(target)")
            }
        }
    }

    /// `ascending` inserts (stamped change-log keys) go after the previous one without a search
    /// when they can: runs under two prefixes interleaved with each other and with random keys,
    /// and now and then a key passed as `ascending` that is not (a wrong guess), must still give
    /// the model's order on every level and the model's answers to searches.
    @Test(arguments: seeds())
    func ascendingRunsInterleavedWithOtherKeysMatchASortedModel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var m = ModelList()
        func stamped(_ prefix: UInt8) -> [UInt8] {
            [prefix] + withUnsafeBytes(of: m.sequence.bigEndian) { Array($0) }
        }
        func randomKey() -> [UInt8] { (0..<Int(1 + rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        for _ in 0..<6_000 {
            switch rng.next() % 10 {
            case 0...4: m.insert(stamped(0x05), ascending: true)
            case 5: m.insert(stamped(0x09), ascending: true)
            case 6: m.insert(randomKey(), ascending: true)  // a wrong guess
            default: m.insert(randomKey(), ascending: false)
            }
        }
        let model = m.sorted
        #expect(Self.keys(of: m.list) == model, "seed \(seed)")
        #expect(m.list.levelsAreOrdered(), "seed \(seed)")
        for _ in 0..<2_000 {
            let user = rng.next() % 2 == 0 ? [UInt8(0x05)] + withUnsafeBytes(of: (1_000 + rng.next() % 7_000).bigEndian) { Array($0) } : randomKey()
            let target = InternalKey.make(user, rng.next() % 8_000, .value)
            let ge = model.first { InternalKey.compare($0, target) >= 0 }
            let lt = model.last { InternalKey.compare($0, target) < 0 }
            target.withUnsafeBytes { t in
                #expect(m.list.findGreaterOrEqual(t).map { Array($0.key) } == ge, "seed \(seed)")
                #expect(m.list.findLessThan(t).map { Array($0.key) } == lt, "seed \(seed)")
            }
        }
    }

    /// Plain inserts in key order (a sequential load: linked after the last plain insert without
    /// a search) interleaved with random plain keys, which break the run, and with stamped
    /// `ascending` runs, which keep their own: the list matches a sorted model on every level.
    @Test(arguments: seeds())
    func plainRunsInKeyOrderInterleavedWithOtherKeysMatchASortedModel(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var m = ModelList()
        var counter: UInt64 = 0
        func big(_ prefix: UInt8, _ n: UInt64) -> [UInt8] { [prefix] + withUnsafeBytes(of: n.bigEndian) { Array($0) } }
        func randomKey() -> [UInt8] { (0..<Int(1 + rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        for _ in 0..<8_000 {
            switch rng.next() % 20 {
            case 0..<12:
                // The sequential run, sometimes skipping ahead (nodes of other runs fall between).
                counter += 1 + (rng.next() % 4 == 0 ? rng.next() % 50 : 0)
                m.insert(big(0x07, counter), ascending: false)
            case 12..<14: m.insert(big(0x07, rng.next() % (counter + 100)), ascending: false)  // into the run
            case 14..<17: m.insert(randomKey(), ascending: false)
            default: m.insert(big(0x05, m.sequence), ascending: true)
            }
        }
        let model = m.sorted
        #expect(Self.keys(of: m.list) == model, "seed \(seed)")
        #expect(m.list.levelsAreOrdered(), "seed \(seed)")
    }
}
