import Testing

@testable import OsmanthusStorage

/// `TableBuilder` stops trying to compress data blocks after a run that did not shrink, and tries
/// again after a while: random values cost no compression on most blocks, compressible values
/// after them are compressed again, and every entry reads back.
struct CompressionSkipTests {
    /// `count` entries of 1000-byte values, random (incompressible) or repetitive, from `start`.
    static func entries(_ start: Int, _ count: Int, random: Bool, _ rng: inout UInt64) -> [([UInt8], [UInt8])] {
        (start..<(start + count)).map { i in
            var value = [UInt8]()
            value.reserveCapacity(1000)
            for j in 0..<1000 {
                if random {
                    rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    value.append(UInt8(truncatingIfNeeded: rng >> 33))
                } else {
                    value.append(UInt8(ascii: "a") + UInt8(j % 3))
                }
            }
            return (TableTestData.ikey("user\(100_000 + i)", UInt64(i + 1)), value)
        }
    }

    @Test(arguments: [CompressionKind.lz4, .zstd], [true, false])
    func incompressibleRunsSkipTriesAndCompressibleBlocksCompressAgain(kind: CompressionKind, packTrailers: Bool) throws {
        var rng: UInt64 = 0x5eed
        // Five entries per 4 KiB block: 320 random blocks, then 160 compressible ones.
        let random = Self.entries(0, 1600, random: true, &rng)
        let repetitive = Self.entries(1600, 800, random: false, &rng)
        var options = TableOptions()
        options.compression = kind
        options.packTrailers = packTrailers
        let file = ByteArrayFile()
        let builder = TableBuilder(file: file, options: options)
        for (key, value) in random + repetitive { try builder.add(key, value) }
        _ = try builder.finish()
        // Of every 8 + 32 random blocks only 8 are tried (none of them shrinks).
        #expect(builder.untriedDataBlocks >= 320 * 32 / 40, "\(builder.untriedDataBlocks)")
        // The compressible ones are compressed again once the skip ends (at most 32 blocks in).
        #expect(builder.compressedDataBlocks >= 160 - TableBuilder.plainBlocksAfterRun - 1, "\(builder.compressedDataBlocks)")
        #expect(builder.compressedDataBlocks <= 161, "\(builder.compressedDataBlocks)")
        #expect(file.bytes.count < 1600 * 1000 + 800 * 1000 / 2)
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        let it = table.makeIterator()
        let read = IteratorWalk.forwardKeys(it)
        #expect(it.error == nil)
        #expect(read.count == random.count + repetitive.count)
        #expect(zip(read, random + repetitive).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
        for (key, value) in (random + repetitive).enumerated().filter({ $0.offset % 97 == 0 }).map(\.element) {
            #expect(try table.get(key)?.value == value)
        }
    }

    @Test func uncompressedTablesTryNothing() throws {
        var rng: UInt64 = 7
        let file = ByteArrayFile()
        let builder = TableBuilder(file: file, options: TableOptions())
        for (key, value) in Self.entries(0, 200, random: true, &rng) { try builder.add(key, value) }
        _ = try builder.finish()
        #expect(builder.untriedDataBlocks == 0)
        #expect(builder.compressedDataBlocks == 0)
    }
}
