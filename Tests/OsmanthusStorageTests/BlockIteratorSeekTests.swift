import Testing

@testable import OsmanthusStorage

/// `BlockIterator.seek` scans a segment without rebuilding keys (`Block.locateFirstEntry`); it
/// must leave the cursor exactly where the key-rebuilding seek (`seekByParsing`) leaves it: the
/// same entry, the same error, and the same answers to every later `next` and `prev`.
struct BlockIteratorSeekTests {
    private func makeBlock(_ entries: [([UInt8], [UInt8])], restartInterval: Int) throws -> Block {
        var builder = BlockBuilder(restartInterval: restartInterval)
        for (key, value) in entries { builder.add(key, value) }
        return try Block(contents: builder.finish(), file: "seek.sst", offset: 7)
    }

    /// What a cursor shows: its entry, or nil, and its error message.
    private struct Seen: Equatable {
        var entry: [[UInt8]]?
        var error: String?
    }

    private func seen(_ it: BlockIterator) -> Seen {
        Seen(entry: it.isValid ? [it.key, it.value] : nil, error: it.error?.message)
    }

    /// Seeks `target` both ways, then takes the same random walk of `next`/`prev` with both
    /// cursors, comparing them after every step.
    private func agree(_ block: Block, _ target: [UInt8], _ rng: inout SplitMix64, _ note: String) {
        let fast = block.makeIterator()
        let slow = block.makeIterator()
        fast.seek(target)
        slow.seekByParsing(target)
        #expect(seen(fast) == seen(slow), "\(note): after seek")
        for step in 0..<6 where slow.isValid {
            if rng.next() % 3 == 0 {
                fast.prev()
                slow.prev()
            } else {
                fast.next()
                slow.next()
            }
            #expect(seen(fast) == seen(slow), "\(note): step \(step)")
        }
    }

    /// Sorted entries over random user keys from a small alphabet (long shared prefixes, keys
    /// that are prefixes of others), each with one to three versions.
    private func randomEntries(_ rng: inout SplitMix64, users: Int, maxLength: Int) -> [([UInt8], [UInt8])] {
        var set = Set<[UInt8]>()
        while set.count < users { set.insert(rng.bytes(maxLength: maxLength, maxByte: 3)) }
        var keys: [[UInt8]] = []
        for user in set {
            for sequence in [UInt64(30), 20, 10].prefix(Int(rng.next() % 3) + 1) {
                keys.append(InternalKey.make(user, sequence, rng.next() % 4 == 0 ? .deletion : .value))
            }
        }
        keys.sort { InternalKey.compare($0, $1) < 0 }
        return keys.enumerated().map { ($1, TableTestData.value($0, length: $0 % 9)) }
    }

    @Test(arguments: [1, 2, 16])
    func seekLandsWhereTheParsingSeekLands(restartInterval: Int) throws {
        let seed: UInt64 = 0x5EE_C0DE &+ UInt64(restartInterval)
        var rng = SplitMix64(seed: seed)
        for round in 0..<8 {
            let entries = randomEntries(&rng, users: 60 + round * 20, maxLength: 3 + round * 2)
            let block = try makeBlock(entries, restartInterval: restartInterval)
            for (key, _) in entries { agree(block, key, &rng, "seed \(seed) round \(round) exact \(key)") }
            for _ in 0..<300 {
                let user = rng.next() % 2 == 0
                    ? InternalKey.userKey(entries[Int(rng.next() % UInt64(entries.count))].0) + rng.bytes(maxLength: 2, maxByte: 3)
                    : ArraySlice(rng.bytes(maxLength: 4 + round * 2, maxByte: 3))
                let target = InternalKey.make(Array(user), rng.next() % 40, .value)
                agree(block, target, &rng, "seed \(seed) round \(round) target \(target)")
            }
        }
    }

    /// Keys longer than the point search's stack buffer, and keys sharing into their trailers
    /// (same user key, several versions), take the parsing path or the in-place path alike.
    @Test func longKeysAndSharedTrailersSeekAlike() throws {
        let seed: UInt64 = 0x10_0C_EE
        var rng = SplitMix64(seed: seed)
        let long = [UInt8](repeating: 0x61, count: Block.searchKeyLimit + 20)
        var keys: [[UInt8]] = []
        for i in 0..<30 {
            let user = long + [UInt8(i / 3)]
            keys.append(InternalKey.make(user, UInt64(100 - i), .value))
        }
        keys.sort { InternalKey.compare($0, $1) < 0 }
        let entries = keys.map { ($0, [UInt8(truncatingIfNeeded: $0.count)]) }
        for interval in [1, 4, 16] {
            let block = try makeBlock(entries, restartInterval: interval)
            for (key, _) in entries { agree(block, key, &rng, "seed \(seed) interval \(interval) \(key.suffix(9))") }
            for _ in 0..<100 {
                let target = InternalKey.make(long + [UInt8(rng.next() % 12)], rng.next() % 110, .value)
                agree(block, target, &rng, "seed \(seed) interval \(interval) target \(target.suffix(9))")
            }
        }
    }

    @Test func everyDamagedByteSeeksAlike() throws {
        let seed: UInt64 = 0xDA_3A6E
        var rng = SplitMix64(seed: seed)
        let entries = (0..<14).map {
            (TableTestData.ikey(TableTestData.userKey($0 * 3), 100), TableTestData.value($0, length: 5))
        }
        var builder = BlockBuilder(restartInterval: 4)
        for (key, value) in entries { builder.add(key, value) }
        let good = builder.finish()
        for i in 0..<good.count {
            for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = good
                bytes[i] ^= pattern
                guard let block = try? Block(contents: bytes, file: "t.sst", offset: 0) else { continue }
                for probe in [0, 4, 13, 20, 41, 44] {
                    let target = TableTestData.ikey(TableTestData.userKey(probe), 100)
                    agree(block, target, &rng, "seed \(seed) byte \(i) ^ \(pattern), probe \(probe)")
                }
            }
        }
    }
}
