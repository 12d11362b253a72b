import Testing

@testable import OsmanthusStorage

struct BloomFilterTests {
    private func key(_ i: Int) -> [UInt8] { Array("user-key-\(i)".utf8) }

    private func filter(for keys: [[UInt8]], bitsPerKey: Int = 10) -> [UInt8] {
        BloomFilter.build(hashes: keys.map { BloomFilter.hash($0) }, bitsPerKey: bitsPerKey)
    }

    @Test func everyAddedKeyMatches() {
        for count in [0, 1, 10, 1000, 10_000] {
            let keys = (0..<count).map(key)
            let f = filter(for: keys)
            for k in keys {
                #expect(BloomFilter.mayContain(f, hash: BloomFilter.hash(k)))
            }
        }
    }

    @Test func falsePositiveRateOnAbsentKeysIsBelowTwoPercent() {
        let f = filter(for: (0..<10_000).map(key))
        let falsePositives = (10_000..<20_000).filter { BloomFilter.mayContain(f, hash: BloomFilter.hash(key($0))) }
        #expect(Double(falsePositives.count) / 10_000 < 0.02, "\(falsePositives.count) false positives")
    }

    @Test func filterOfNoKeysMatchesNothing() {
        let f = filter(for: [])
        #expect(f.count == BloomFilter.lineBytes + 1)
        #expect(!BloomFilter.mayContain(f, hash: BloomFilter.hash(key(1))))
        let classic = BloomFilter.buildClassic(hashes: [], bitsPerKey: 10)
        #expect(classic.count == 9)
        #expect(!BloomFilter.mayContain(classic, hash: BloomFilter.hash(key(1))))
    }

    @Test func filterUsesAboutTenBitsPerKeyAndSevenProbes() {
        let f = filter(for: (0..<1000).map(key))
        // 10,000 bits rounded up to whole 512-bit lines.
        #expect(f.count == 20 * 64 + 1)
        #expect(f.last == UInt8(0x47))  // cache-local (0x40) | k = 7 (10 · ln 2 rounded)
        let classic = BloomFilter.buildClassic(hashes: (0..<1000).map { BloomFilter.hash(key($0)) }, bitsPerKey: 10)
        #expect(classic.count == 1000 * 10 / 8 + 1)
        #expect(classic.last == 7)
        #expect(BloomFilter.probeCount(bitsPerKey: 20) == 14)
        #expect(BloomFilter.probeCount(bitsPerKey: 1) == 1)
    }

    @Test func missingOrUnknownFiltersMatchEverything() {
        #expect(BloomFilter.mayContain([], hash: 1))
        #expect(BloomFilter.mayContain([0], hash: 1))
        // A probe count beyond the supported range is treated as "no filter".
        #expect(BloomFilter.mayContain([0, 0, 0, 0, 0, 0, 0, 0, 31], hash: 1))
        let line = [UInt8](repeating: 0, count: 64)
        for layout: UInt8 in [0x40, 0x40 | 31, 0x7F, 0x80, 0xC7, 0xFF] {
            #expect(BloomFilter.mayContain(line + [layout], hash: 1), "layout \(layout)")
        }
        // A cache-local filter must be whole lines.
        #expect(BloomFilter.mayContain([UInt8](repeating: 0, count: 65) + [0x47], hash: 1))
        #expect(!BloomFilter.mayContain(line + [0x47], hash: 1))
    }

    /// Tables written before the cache-local layout carry classic filters: still read exactly.
    @Test func classicFiltersAreStillRead() {
        let seed: UInt64 = 0xB100_C1A5
        var rng = SplitMix64(seed: seed)
        let keys = (0..<5_000).map { _ in rng.bytes(maxLength: 24) }
        let present = Set(keys)
        let f = BloomFilter.buildClassic(hashes: keys.map { BloomFilter.hash($0) }, bitsPerKey: 10)
        for k in keys { #expect(BloomFilter.mayContain(f, hash: BloomFilter.hash(k)), "seed \(seed)") }
        var falsePositives = 0
        var absent = 0
        while absent < 5_000 {
            let k = rng.bytes(maxLength: 24)
            guard !present.contains(k) else { continue }
            absent += 1
            if BloomFilter.mayContain(f, hash: BloomFilter.hash(k)) { falsePositives += 1 }
        }
        #expect(Double(falsePositives) / 5_000 < 0.02, "seed \(seed): \(falsePositives) false positives")
    }

    /// Every probe of a key lands in one 64-byte line of a cache-local filter.
    @Test func aKeysProbesStayInOneLine() {
        let seed: UInt64 = 0x11AE_5EED
        var rng = SplitMix64(seed: seed)
        for _ in 0..<300 {
            let k = rng.bytes(maxLength: 20)
            let f = BloomFilter.build(hashes: [BloomFilter.hash(k)] + Array(repeating: 0, count: 200), bitsPerKey: 10)
            let alone = BloomFilter.build(hashes: [BloomFilter.hash(k)], bitsPerKey: 10)
            #expect(alone.count == 65)
            // In the larger filter the key's bits, minus those of the hash-0 keys, sit in one line.
            let zeros = BloomFilter.build(hashes: Array(repeating: 0, count: 200), bitsPerKey: 10)
            let lines = Set((0..<(f.count - 1)).filter { f[$0] != zeros[$0] }.map { $0 / 64 })
            #expect(lines.count <= 1, "seed \(seed): \(k) set bits in lines \(lines)")
            #expect(BloomFilter.mayContain(f, hash: BloomFilter.hash(k)))
        }
    }

    /// The hash is part of the table format: stored filters are only usable if it never changes.
    @Test func hashValuesArePinned() {
        #expect(BloomFilter.hash([]) == 3_651_860_435)
        #expect(BloomFilter.hash(Array("a".utf8)) == 3_348_447_516)
        #expect(BloomFilter.hash(Array("hello, osmanthus".utf8)) == 3_480_751_626)
    }

    @Test func hashSpreadsSimilarKeys() {
        var seen = Set<UInt32>()
        for i in 0..<10_000 { seen.insert(BloomFilter.hash(key(i))) }
        #expect(seen.count > 9_990)
    }
}
