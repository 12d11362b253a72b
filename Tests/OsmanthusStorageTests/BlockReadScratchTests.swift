import Foundation
import Synchronization
import Testing

@testable import OsmanthusStorage

/// Block reads go through a per-thread scratch (`BlockReadScratch`): the stored bytes, and the
/// decompressed bytes of a packed block, live there only until the block is decoded into memory
/// of its own. These tests read tables with no block cache, so every read decodes a block.
struct BlockReadScratchTests {
    /// Seeded entries: keys in order, values of random lengths, half of each value repeated so
    /// compression has something to find.
    private func entries(seed: UInt64, count: Int, maxValue: Int) -> [([UInt8], [UInt8])] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { i in
            let half = (0..<Int.random(in: 0...maxValue / 2, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let sequence = UInt64.random(in: 0...(1 << 30), using: &rng)
            return (TableTestData.ikey(TableTestData.userKey(i), sequence), half + half)
        }
    }

    private func table(_ entries: [([UInt8], [UInt8])], compression: CompressionKind, blockSize: Int) throws -> Table {
        var options = TableOptions()
        options.compression = compression
        options.blockSize = blockSize
        let file = ByteArrayFile()
        let builder = TableBuilder(file: file, options: options)
        for (key, value) in entries { try builder.add(key, value) }
        _ = try builder.finish()
        return try Table.open(file: file, fileNumber: 1, cache: nil)
    }

    /// Tables of every compression (packed lz4 and zstd blocks, plain raw ones) read from four
    /// threads at once, each walking every table and getting keys at random: each thread's
    /// scratch is its own, so every block decodes to exactly the entries written.
    @Test func concurrentReadersEachDecodeTheirOwnBlocks() throws {
        let tables = try CompressionKind.allCases.enumerated().map { index, kind in
            let written = entries(seed: 0x5C2A7C + UInt64(index), count: 400, maxValue: 120)
            return (written, try table(written, compression: kind, blockSize: 1024))
        }
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            var rng = SplitMix64(seed: 0xF00D + UInt64(thread))
            for _ in 0..<3 {
                for (written, table) in tables {
                    let it = table.makeIterator(fillCache: false)
                    let read = IteratorWalk.forwardKeys(it)
                    if it.error != nil || read.count != written.count
                        || !zip(read, written).allSatisfy({ $0.0 == $1.0 && $0.1 == $1.1 })
                    {
                        failures.add(1, ordering: .relaxed)
                    }
                    for _ in 0..<50 {
                        let (key, value) = written[Int.random(in: 0..<written.count, using: &rng)]
                        let found = try? table.get(key)
                        if found?.key != key || found?.value != value { failures.add(1, ordering: .relaxed) }
                    }
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    /// Blocks over the scratch's limit are read into buffers of their own (a raw one keeps it),
    /// and small blocks read after them still decode: one table mixes both, in every compression.
    @Test func blocksOverTheScratchLimitReadBackBesideSmallOnes() throws {
        var rng = SplitMix64(seed: 0xB16B10C)
        let large = BlockReadScratch.limit + 5_000
        for kind in CompressionKind.allCases {
            var written: [([UInt8], [UInt8])] = []
            for i in 0..<30 {
                // Every tenth value is larger than the scratch: its block is too.
                let length = i % 10 == 3 ? large : Int.random(in: 0...200, using: &rng)
                let half = (0..<(length / 2)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let value = half + half + (length % 2 == 1 ? [7] : [])
                written.append((TableTestData.ikey(TableTestData.userKey(i), UInt64(i + 1)), value))
            }
            let t = try table(written, compression: kind, blockSize: 2048)
            let it = t.makeIterator(fillCache: false)
            let read = IteratorWalk.forwardKeys(it)
            #expect(it.error == nil, "\(kind)")
            #expect(read.count == written.count, "\(kind)")
            #expect(zip(read, written).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }, "\(kind)")
            for (key, value) in written.reversed() {
                #expect(try t.get(key)?.value == value, "\(kind)")
            }
        }
    }

    /// A damaged compressed block read through the scratch is still `corruption`, and the next
    /// read on the same thread (reusing the scratch) decodes its block correctly.
    @Test func aDamagedBlockLeavesTheScratchUsable() throws {
        let written = entries(seed: 0xBAD5C2, count: 200, maxValue: 80)
        var options = TableOptions()
        options.compression = .lz4
        options.blockSize = 1024
        let file = ByteArrayFile()
        let builder = TableBuilder(file: file, options: options)
        for (key, value) in written { try builder.add(key, value) }
        _ = try builder.finish()
        // Flip a byte inside the first data block: its checksum no longer matches.
        file.bytes[10] ^= 0x55
        let t = try Table.open(file: file, fileNumber: 1, cache: nil)
        #expect(throws: StorageError.self) { try t.get(written[0].0) }
        let last = try #require(written.last)
        #expect(try t.get(last.0)?.value == last.1)
    }
}
