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
        #expect(f.count == 9)
        #expect(!BloomFilter.mayContain(f, hash: BloomFilter.hash(key(1))))
    }

    @Test func filterUsesAboutTenBitsPerKeyAndSevenProbes() {
        let f = filter(for: (0..<1000).map(key))
        #expect(f.count == 1000 * 10 / 8 + 1)
        #expect(f.last == 7)  // 10 · ln 2, rounded
        #expect(BloomFilter.probeCount(bitsPerKey: 20) == 14)
        #expect(BloomFilter.probeCount(bitsPerKey: 1) == 1)
    }

    @Test func missingOrUnknownFiltersMatchEverything() {
        #expect(BloomFilter.mayContain([], hash: 1))
        #expect(BloomFilter.mayContain([0], hash: 1))
        // A probe count beyond the supported range is treated as "no filter".
        #expect(BloomFilter.mayContain([0, 0, 0, 0, 0, 0, 0, 0, 31], hash: 1))
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
