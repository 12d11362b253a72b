import Testing

@testable import OsmanthusStorage

struct BlockCacheIndexTests {
    private struct Key: Hashable {
        var file: UInt64
        var offset: UInt64
    }

    @Test func findsWhatWasSetAndNothingElse() {
        var index = BlockCacheIndex()
        index.set(fileNumber: 3, offset: 4096, slot: 7)
        index.set(fileNumber: 3, offset: 0, slot: 8)
        #expect(index.find(fileNumber: 3, offset: 4096) == 7)
        #expect(index.find(fileNumber: 3, offset: 0) == 8)
        #expect(index.find(fileNumber: 4, offset: 4096) == nil)
        #expect(index.find(fileNumber: 3, offset: 8192) == nil)
        #expect(index.count == 2)
    }

    @Test func settingAnExistingKeyReplacesItsSlot() {
        var index = BlockCacheIndex()
        index.set(fileNumber: 1, offset: 10, slot: 1)
        index.set(fileNumber: 1, offset: 10, slot: 2)
        #expect(index.find(fileNumber: 1, offset: 10) == 2)
        #expect(index.count == 1)
    }

    @Test func removeReturnsTheSlotOnceThenNil() {
        var index = BlockCacheIndex()
        index.set(fileNumber: 9, offset: 123, slot: 5)
        #expect(index.remove(fileNumber: 9, offset: 123) == 5)
        #expect(index.remove(fileNumber: 9, offset: 123) == nil)
        #expect(index.find(fileNumber: 9, offset: 123) == nil)
        #expect(index.count == 0)
    }

    @Test func growsAndKeepsEveryEntry() {
        var index = BlockCacheIndex(minimumCapacity: 1)
        let start = index.bucketCount
        for i in 0..<1000 { index.set(fileNumber: UInt64(i % 5), offset: UInt64(i) * 4096, slot: i) }
        #expect(index.bucketCount > start)
        #expect(2 * index.count <= index.bucketCount)
        for i in 0..<1000 { #expect(index.find(fileNumber: UInt64(i % 5), offset: UInt64(i) * 4096) == i) }
    }

    /// Random sets and removes on few distinct keys (long probe runs, many backward shifts)
    /// agree with a Dictionary after every step.
    @Test func randomOperationsMatchADictionary() {
        let seed: UInt64 = 0x5EED_0B1C
        var rng = SplitMix64(seed: seed)
        var index = BlockCacheIndex(minimumCapacity: 4)
        var model: [Key: Int] = [:]
        for step in 0..<20_000 {
            let key = Key(file: rng.next() % 4, offset: (rng.next() % 64) * 4096)
            if rng.next() % 3 == 0 {
                let removed = index.remove(fileNumber: key.file, offset: key.offset)
                #expect(removed == model.removeValue(forKey: key), "seed \(seed) step \(step)")
            } else {
                let slot = Int(rng.next() % 1_000_000)
                index.set(fileNumber: key.file, offset: key.offset, slot: slot)
                model[key] = slot
            }
            if step % 97 == 0 {
                for (k, v) in model {
                    #expect(index.find(fileNumber: k.file, offset: k.offset) == v, "seed \(seed) step \(step)")
                }
                #expect(index.count == model.count)
            }
        }
        let listed = index.entries { _ in true }
        #expect(listed.count == model.count)
        for e in listed { #expect(model[Key(file: e.fileNumber, offset: e.offset)] == e.slot) }
    }

    @Test func entriesFiltersByKey() {
        var index = BlockCacheIndex()
        for i in 0..<40 { index.set(fileNumber: UInt64(i % 4), offset: UInt64(i), slot: i) }
        let file2 = index.entries { $0.fileNumber == 2 }.map(\.slot).sorted()
        #expect(file2 == Array(stride(from: 2, to: 40, by: 4)))
    }
}
