import Glibc
import Testing

@testable import OsmanthusStorage

/// `Block.withFirstEntry` (the point search `Table.find` uses) must answer exactly as a
/// `BlockIterator` seek does, damaged blocks included.
struct BlockSearchTests {
    private func makeBlock(
        _ entries: [([UInt8], [UInt8])], restartInterval: Int, searchable: Bool = false
    ) throws -> Block {
        var builder = BlockBuilder(restartInterval: restartInterval)
        for (key, value) in entries { builder.add(key, value) }
        return try Block(contents: builder.finish(), file: "search.sst", offset: 99, searchable: searchable)
    }

    /// The iterator's answer: (key, value), nil past the end, or the error.
    private func iteratorSeek(_ block: Block, _ target: [UInt8]) -> Result<([UInt8], [UInt8])?, StorageError> {
        let it = block.makeIterator()
        it.seek(target)
        if let error = it.error { return .failure(error) }
        return .success(it.isValid ? (it.key, it.value) : nil)
    }

    private func search(_ block: Block, _ target: [UInt8]) -> Result<([UInt8], [UInt8])?, StorageError> {
        do {
            let found = try target.withUnsafeBytes { t in
                try block.withFirstEntry(atOrAfter: t) { k, v in (Array(k), Array(v)) }
            }
            return .success(found)
        } catch let error as StorageError {
            return .failure(error)
        } catch {
            Issue.record("unexpected error \(error)")
            return .success(nil)
        }
    }

    /// The plain block's iterator seek against `searched`'s point search and iterator seek
    /// (`searched` defaults to the same block; a searchable copy uses its restart prefixes).
    private func agree(_ block: Block, _ target: [UInt8], _ note: String, searched: Block? = nil) {
        if let searched { agreeResults(iteratorSeek(block, target), iteratorSeek(searched, target), note) }
        agreeResults(iteratorSeek(block, target), search(searched ?? block, target), note)
    }

    private func agreeResults(
        _ first: Result<([UInt8], [UInt8])?, StorageError>, _ second: Result<([UInt8], [UInt8])?, StorageError>,
        _ note: String
    ) {
        switch (first, second) {
        case (.success(let a), .success(let b)):
            #expect(a?.0 == b?.0, "\(note)")
            #expect(a?.1 == b?.1, "\(note)")
        case (.failure(let a), .failure(let b)):
            #expect(a.code == b.code, "\(note)")
            #expect(a.message == b.message, "\(note)")
        case (let a, let b):
            Issue.record("\(note): iterator \(a), search \(b)")
        }
    }

    @Test(arguments: [1, 3, 16])
    func searchMatchesIteratorSeekOnRandomKeys(restartInterval: Int) throws {
        let seed: UInt64 = 0xB10C_5EA2 &+ UInt64(restartInterval)
        var rng = SplitMix64(seed: seed)
        var users = Set<[UInt8]>()
        while users.count < 300 { users.insert(rng.bytes(maxLength: 12, maxByte: 3)) }
        var keys: [[UInt8]] = []
        for user in users {
            for sequence in [UInt64(9), 5] { keys.append(InternalKey.make(user, sequence, .value)) }
        }
        keys.sort { InternalKey.compare($0, $1) < 0 }
        let entries = keys.enumerated().map { ($1, TableTestData.value($0, length: $0 % 7)) }
        let block = try makeBlock(entries, restartInterval: restartInterval)
        let searchable = try makeBlock(entries, restartInterval: restartInterval, searchable: true)
        #expect(searchable.restartPrefixes != nil)
        for key in keys {
            agree(block, key, "seed \(seed) exact key")
            agree(block, key, "seed \(seed) exact key, prefixes", searched: searchable)
        }
        for _ in 0..<500 {
            let target = InternalKey.make(rng.bytes(maxLength: 13, maxByte: 3), rng.next() % 12, .value)
            agree(block, target, "seed \(seed) target \(target)")
            agree(block, target, "seed \(seed) target \(target), prefixes", searched: searchable)
        }
    }

    /// Restart prefixes of user keys that differ only past eight bytes, or by trailing zero
    /// bytes, or that are shorter than eight bytes, still find what a plain seek finds.
    @Test func restartPrefixesKeepTheOrderOfPaddedAndLongKeys() throws {
        let seed: UInt64 = 0x9AD_0E5
        var rng = SplitMix64(seed: seed)
        var users = Set<[UInt8]>()
        let stems: [[UInt8]] = [[], [0], [0, 0], [1], [1, 0], [1, 0, 0, 0, 0, 0, 0], [2, 2, 2, 2, 2, 2, 2, 2]]
        for stem in stems {
            users.insert(stem)
            for _ in 0..<30 { users.insert(stem + rng.bytes(maxLength: 10, maxByte: 2)) }
        }
        let keys = users.map { InternalKey.make($0, 7, .value) }.sorted { InternalKey.compare($0, $1) < 0 }
        let entries = keys.enumerated().map { ($1, [UInt8(truncatingIfNeeded: $0)]) }
        let block = try makeBlock(entries, restartInterval: 1)
        let searchable = try makeBlock(entries, restartInterval: 1, searchable: true)
        for key in keys { agree(block, key, "seed \(seed) \(key)", searched: searchable) }
        for _ in 0..<2000 {
            let target = InternalKey.make(
                stems[Int(rng.next() % UInt64(stems.count))] + rng.bytes(maxLength: 10, maxByte: 2), rng.next() % 10,
                .value)
            agree(block, target, "seed \(seed) target \(target)", searched: searchable)
        }
    }

    /// Restart keys sharing a long first part (as one index's entries do): the prefixes are
    /// taken past it, and targets below, above, inside or cut short of it find what a plain
    /// seek finds.
    @Test(arguments: [1, 2, 5])
    func restartKeysWithACommonFirstPartAreSearchedPastIt(restartInterval: Int) throws {
        let seed: UInt64 = 0xC0_11A7 &+ UInt64(restartInterval)
        var rng = SplitMix64(seed: seed)
        let common: [UInt8] = [0x11, 0, 0, 0, 3, 0, 0, 0, 7, 0x20]
        var users = Set<[UInt8]>()
        // Suffixes short and long, some empty (a key that is the common part itself).
        users.insert(common)
        while users.count < 200 { users.insert(common + rng.bytes(maxLength: 14, maxByte: 3)) }
        let keys = users.flatMap { [InternalKey.make($0, 9, .value), InternalKey.make($0, 4, .deletion)] }
            .sorted { InternalKey.compare($0, $1) < 0 }
        let entries = keys.enumerated().map { ($1, [UInt8(truncatingIfNeeded: $0)]) }
        let block = try makeBlock(entries, restartInterval: restartInterval)
        let searchable = try makeBlock(entries, restartInterval: restartInterval, searchable: true)
        #expect(searchable.restartSkip == common.count)
        for key in keys { agree(block, key, "seed \(seed) \(key)", searched: searchable) }
        for _ in 0..<1500 {
            var user: [UInt8]
            switch rng.next() % 5 {
            case 0: user = Array(common.prefix(Int(rng.next() % UInt64(common.count))))  // cut short
            case 1:  // differs inside the common part
                user = common
                user[Int(rng.next() % UInt64(common.count))] &+= rng.next() % 2 == 0 ? 1 : 255
                user += rng.bytes(maxLength: 6, maxByte: 3)
            default: user = common + rng.bytes(maxLength: 15, maxByte: 3)
            }
            let target = InternalKey.make(user, rng.next() % 12, .value)
            agree(block, target, "seed \(seed) target \(target)", searched: searchable)
        }
    }

    /// Keys alike for their first 8, 16 or 24 bytes and more (the three prefix words all equal),
    /// in a block whose first and last keys differ at byte 0 (no shared part skipped), and
    /// differing just inside or just past a word: the search finds what a plain seek finds.
    @Test func restartKeysAlikeAcrossEveryPrefixWordAreStillOrdered() throws {
        let seed: UInt64 = 0x3_0D5
        var rng = SplitMix64(seed: seed)
        var users = Set<[UInt8]>([[0x01], [0xF0, 0x01]])
        for stemLength in [7, 8, 9, 15, 16, 17, 23, 24, 25, 31] {
            let stem = [UInt8](repeating: 0x41, count: stemLength)
            users.insert(stem)
            for _ in 0..<25 { users.insert(stem + rng.bytes(maxLength: 4, maxByte: 2)) }
        }
        let keys = users.map { InternalKey.make($0, 7, .value) }.sorted { InternalKey.compare($0, $1) < 0 }
        let entries = keys.enumerated().map { ($1, [UInt8(truncatingIfNeeded: $0)]) }
        for interval in [1, 4] {
            let block = try makeBlock(entries, restartInterval: interval)
            let searchable = try makeBlock(entries, restartInterval: interval, searchable: true)
            #expect(searchable.restartSkip == 0)
            for key in keys { agree(block, key, "seed \(seed) \(key)", searched: searchable) }
            for _ in 0..<1500 {
                let stem = [UInt8](repeating: 0x41, count: Int(rng.next() % 34))
                let target = InternalKey.make(stem + rng.bytes(maxLength: 4, maxByte: 2), rng.next() % 10, .value)
                agree(block, target, "seed \(seed) target \(target)", searched: searchable)
            }
        }
    }

    @Test func keysLongerThanTheStackBufferAreStillFound() throws {
        let long = [UInt8](repeating: 0x61, count: Block.searchKeyLimit + 50)
        let entries = (0..<40).map { i in (InternalKey.make(long + [UInt8(i)], 1, .value), [UInt8(i)]) }
        let block = try makeBlock(entries, restartInterval: 4)
        for (key, value) in entries {
            #expect(try search(block, key).get()?.1 == value)
        }
        #expect(try search(block, InternalKey.make(long + [200], 1, .value)).get() == nil)
    }

    @Test func everyDamagedByteGivesTheIteratorsAnswer() throws {
        var builder = BlockBuilder(restartInterval: 3)
        let entries = (0..<12).map { (TableTestData.ikey(TableTestData.userKey($0), 100), TableTestData.value($0)) }
        for (key, value) in entries { builder.add(key, value) }
        let good = builder.finish()
        for i in 0..<good.count {
            for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = good
                bytes[i] ^= pattern
                guard let block = try? Block(contents: bytes, file: "t.sst", offset: 0),
                    let searchable = try? Block(contents: bytes, file: "t.sst", offset: 0, searchable: true)
                else { continue }
                for probe in [0, 5, 7, 11] {
                    agree(block, entries[probe].0, "byte \(i) ^ \(pattern), probe \(probe)")
                    agree(block, entries[probe].0, "byte \(i) ^ \(pattern), probe \(probe), prefixes", searched: searchable)
                }
            }
        }
    }

    @Test func compareMemoryHasTheSignOfMemcmp() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<5000 {
            let n = Int(rng.next() % 80)
            var a = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next() % 3) }
            var b = a
            if n > 0 && rng.next() % 4 != 0 {
                let i = Int(rng.next() % UInt64(n))
                b[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 2 == 0 { swap(&a, &b) }
            let expected = n == 0 ? 0 : memcmp(a, b, n).signum()
            let actual = a.withUnsafeBytes { x in b.withUnsafeBytes { y in compareMemory(x.baseAddress!, y.baseAddress!, n) } }
            #expect(actual == Int(expected), "\(a) vs \(b)")
        }
    }
    /// The word-at-a-time comparison (tails included) orders internal keys as `InternalKey.compare`
    /// does: short user keys, prefixes of each other, equal user keys with different trailers.
    @Test func compareInternalKeysMatchesInternalKeyCompare() {
        let seed: UInt64 = 0x1C0_3A7E
        var rng = SplitMix64(seed: seed)
        for step in 0..<20000 {
            var a = rng.bytes(maxLength: 20, maxByte: 2)
            var b = rng.next() % 3 == 0 ? a : rng.bytes(maxLength: 20, maxByte: 2)
            // Often one user key extends or cuts the other.
            if rng.next() % 4 == 0 { b = a + rng.bytes(maxLength: 10, maxByte: 2) }
            if rng.next() % 2 == 0 { swap(&a, &b) }
            let ka = InternalKey.make(a, rng.next() % 4, rng.next() % 2 == 0 ? .value : .deletion)
            let kb = InternalKey.make(b, rng.next() % 4, rng.next() % 2 == 0 ? .value : .deletion)
            let expected = InternalKey.compare(ka, kb).signum()
            let actual = ka.withUnsafeBytes { x in
                kb.withUnsafeBytes { y in compareInternalKeys(x.baseAddress!, x.count, y.baseAddress!, y.count) }
            }
            #expect(actual == expected, "seed \(seed) step \(step): \(ka) vs \(kb)")
        }
    }
}
