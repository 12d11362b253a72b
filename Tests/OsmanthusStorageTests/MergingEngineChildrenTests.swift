import Testing

@testable import OsmanthusStorage

/// The merge over the engine's own iterators (memtables, tables, a level of tables) mixed with
/// others, each held unowned in the merge's buffer: random walks against the sorted reference.
struct MergingEngineChildrenTests {
    private typealias Entry = IteratorWalk.Entry

    /// A table of `entries` (sorted internal keys) in memory, small blocks so walks cross them.
    private func table(_ entries: [Entry], number: UInt64) throws -> Table {
        let file = ByteArrayFile()
        var options = TableOptions()
        options.blockSize = 128
        let builder = TableBuilder(file: file, options: options)
        for entry in entries { try builder.add(entry.key, entry.value) }
        _ = try builder.finish()
        return try Table.open(file: file, fileNumber: number, cache: nil)
    }

    /// One child's entries: random user keys, distinct internal keys, values naming the child.
    private func entries(_ child: Int, sequence: inout SequenceNumber, using rng: inout SplitMix64) -> [Entry] {
        var out: [Entry] = []
        for _ in 0..<Int.random(in: 0...150, using: &rng) {
            let user = rng.bytes(maxLength: 4, maxByte: 5)
            out.append((InternalKey.make(user, sequence, Bool.random(using: &rng) ? .value : .deletion),
                        [UInt8(child)] + Array("v\(sequence)".utf8)))
            sequence += 1
        }
        return out.sorted { InternalKey.compare($0.key, $1.key) < 0 }
    }

    @Test func engineChildrenWalkLikeTheSortedReference() throws {
        for round in 0..<12 {
            let seed = UInt64(0xE4EA_D000 + round)
            var rng = SplitMix64(seed: seed)
            var sequence: SequenceNumber = 1
            var children: [InternalIterator] = []
            var all: [Entry] = []
            var tables: [Table] = []  // kept alive by the iterators too; held here for clarity
            for child in 0..<Int.random(in: 1...6, using: &rng) {
                let mine = entries(child, sequence: &sequence, using: &rng)
                all += mine
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    let mem = MemTable()
                    for (key, value) in mine {
                        mem.add(InternalKey.sequence(key), InternalKey.kind(key) ?? .value,
                                Array(InternalKey.userKey(key)), value)
                    }
                    children.append(mem.makeIterator())
                case 1:
                    let t = try table(mine, number: UInt64(child + 1))
                    tables.append(t)
                    children.append(t.makeTableIterator(fillCache: false))
                default:
                    children.append(VectorIterator(mine))
                }
            }
            let reference = all.sorted { InternalKey.compare($0.key, $1.key) < 0 }
            var probes = reference.map(\.key)
            probes += (0..<40).map { _ in
                InternalKey.lookupKey(rng.bytes(maxLength: 5, maxByte: 6), SequenceNumber.random(in: 0...900, using: &rng))
            }
            let merged = MergingIterator(children)
            #expect(IteratorWalk.forwardKeys(merged).map(\.key) == reference.map(\.key), "seed \(seed)")
            #expect(IteratorWalk.backwardKeys(merged).map(\.key) == reference.reversed().map(\.key), "seed \(seed)")
            IteratorWalk.randomWalk(merged, reference, probes: probes, steps: 1_500, using: &rng, context: "seed \(seed)")
            // Values lent without a closure agree with the copies.
            merged.seekToFirst()
            while merged.isValid {
                #expect(merged.lentValueBytes.map { Array($0) } ?? merged.value == merged.value, "seed \(seed)")
                merged.next()
            }
            #expect(merged.error == nil)
        }
    }
}
