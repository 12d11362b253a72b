import Testing

@testable import OsmanthusStorage

/// The memtable's whole-key filter (`MemTableFilter`): it never calls a key inserted into the
/// memtable absent (puts and deletions alike), and it does call most other keys absent.
struct MemTableFilterTests {
    static func seeds() -> [UInt64] { [1, 2, 0xF117E2, UInt64.random(in: 0...UInt64.max)] }

    /// Seeded puts and deletes of keys of 0–40 bytes (the hash's tail and block paths) into a
    /// memtable with the smallest filter, against a dictionary: every key written is "maybe"
    /// and reads as the model says; keys never written read absent.
    @Test(arguments: seeds())
    func insertedKeysAreNeverFilteredOut(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let mem = MemTable(expectedBytes: 0)  // the minimum filter: crowded words
        var model: [[UInt8]: [UInt8]?] = [:]  // nil value: deleted
        var sequence: SequenceNumber = 1
        for _ in 0..<3000 {
            let key = rng.bytes(maxLength: 40, maxByte: 7)
            if rng.next() % 4 == 0 {
                mem.add(sequence, .deletion, key, [])
                model[key] = .some(nil)
            } else {
                let value = rng.bytes(maxLength: 16)
                mem.add(sequence, .value, key, value)
                model[key] = .some(value)
            }
            sequence += 1
        }
        for (key, value) in model {
            #expect(mem.mayContain(key), "seed \(seed) key \(key)")
            let expected: MemTable.LookupResult = value.map { .found($0) } ?? .deleted
            #expect(mem.get(key, sequence: maxSequenceNumber) == expected, "seed \(seed) key \(key)")
        }
        var absentSaidMaybe = 0
        var absent = 0
        while absent < 2000 {
            let key = rng.bytes(maxLength: 40, maxByte: 255)
            guard model[key] == nil else { continue }
            absent += 1
            if mem.mayContain(key) { absentSaidMaybe += 1 }
            #expect(mem.get(key, sequence: maxSequenceNumber) == .absent, "seed \(seed) key \(key)")
        }
        // About 2,200 distinct keys in 512 words: a few percent say "maybe" (a filter that
        // always said "maybe" would fail here).
        #expect(absentSaidMaybe < absent / 5, "seed \(seed): \(absentSaidMaybe) of \(absent)")
    }

    /// `MemTableFilter.hash` is the function SPEC.md §9.3 writes down, computed here from
    /// the text on seeded keys of 0–40 bytes: blocks of 8 little-endian bytes, the last one the
    /// 8 bytes ending the key (a short key zero-padded), folded by multiply and shift.
    @Test func hashIsTheOneTheSpecDescribes() {
        func block(_ bytes: ArraySlice<UInt8>) -> UInt64 {
            bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        }
        func specHash(_ key: [UInt8]) -> UInt64 {
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
            var blocks: [(UInt64, UInt64)] = []  // (block, multiplier)
            if key.count < 8 {
                blocks = [(block(key[...]), 0xBF58_476D_1CE4_E5B9)]
            } else {
                var i = 0
                while i < key.count - 8 {
                    blocks.append((block(key[i..<(i + 8)]), 0xBF58_476D_1CE4_E5B9))
                    i += 8
                }
                blocks.append((block(key[(key.count - 8)...]), 0x94D0_49BB_1331_11EB))
            }
            for (b, c) in blocks {
                h = (h ^ b) &* c
                h ^= h >> 31
            }
            h = h &* 0xFF51_AFD7_ED55_8CCD
            return h ^ (h >> 32)
        }
        var rng = SplitMix64(seed: 99)
        for _ in 0..<500 {
            let key = rng.bytes(maxLength: 40)
            #expect(key.withUnsafeBytes { MemTableFilter.hash($0) } == specHash(key), "key \(key)")
        }
    }

    /// Without a filter (`Options.memtableKeyFilter` off) every key may be present: reads search.
    @Test func aMemtableWithoutAFilterSearchesForEveryKey() {
        let mem = MemTable(expectedBytes: 0, keyFilter: false)
        mem.add(1, .value, Array("a".utf8), Array("1".utf8))
        #expect(mem.mayContain(Array("a".utf8)) && mem.mayContain(Array("never written".utf8)))
        #expect(mem.get(Array("a".utf8), sequence: 1) == .found(Array("1".utf8)))
    }

    /// The filter is sized from the memtable's expected size, within its bounds, a power of
    /// two of words.
    @Test func filterSizeFollowsTheMemtableSize() {
        func bytes(_ memtableBytes: Int) -> Int {
            let filter = MemTableFilter(memtableBytes: memtableBytes)
            defer { filter.deallocate() }
            return filter.wordCount * 8
        }
        #expect(bytes(0) == MemTableFilter.minBytes)
        #expect(bytes(32 << 20) == (32 << 20) / MemTableFilter.bytesPerMemtableByte)
        #expect(bytes(1 << 40) == MemTableFilter.maxBytes)
        let odd = bytes(3 << 20) / 8
        #expect(odd & (odd - 1) == 0 && odd * 8 >= (3 << 20) / MemTableFilter.bytesPerMemtableByte)
    }

    /// Through the engine: seeded puts and deletes with a memtable small enough to switch
    /// often (an immutable memtable and tables beside it); every read answers as a dictionary,
    /// keys in tables only included.
    @Test(arguments: [(UInt64(7), true), (8, true), (9, false)])
    func engineReadsMatchADictionaryAcrossMemtableSwitches(seed: UInt64, keyFilter: Bool) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: seed)
        var options = Options()
        options.memtableSize = 16 << 10
        options.memtableKeyFilter = keyFilter
        let db = try DB.open(at: dir.path, options: options)
        var model: [[UInt8]: [UInt8]] = [:]
        for step in 0..<3000 {
            let key = Array("key\(rng.next() % 800)".utf8)
            switch rng.next() % 10 {
            case 0..<5:
                let value = rng.bytes(maxLength: 100)
                try db.put(key, value)
                model[key] = value
            case 5..<7:
                try db.delete(key)
                model[key] = nil
            default:
                #expect(try db.get(key) == model[key], "seed \(seed) step \(step)")
                let viaBytes = try key.withUnsafeBytes { try db.get(bytes: $0) }
                #expect(viaBytes == model[key], "seed \(seed) step \(step)")
            }
        }
        for i in 0..<800 {
            let key = Array("key\(i)".utf8)
            #expect(try db.get(key) == model[key], "seed \(seed) key \(i)")
        }
        try db.close()
    }
}
