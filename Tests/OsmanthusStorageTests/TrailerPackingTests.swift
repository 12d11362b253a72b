import Foundation
import Testing

@testable import OsmanthusStorage

struct TrailerPackingTests {
    /// A block built by `BlockBuilder` from `entries` (keys must be increasing).
    private func plainBlock(_ entries: [([UInt8], [UInt8])], restartInterval: Int = 16) -> [UInt8] {
        var builder = BlockBuilder(restartInterval: restartInterval)
        for (key, value) in entries { builder.add(key, value) }
        return builder.finish()
    }

    private func unpack(_ packed: [UInt8], limit: Int = TableFormat.maxBlockSize) throws -> [UInt8] {
        try packed.withUnsafeBytes { bytes in
            let (memory, count) = try TrailerPacking.unpack(bytes, limit: limit, file: "t.sst", offset: 7)
            defer { memory.deallocate() }
            return Array(UnsafeBufferPointer(start: memory, count: count))
        }
    }

    private func pack(_ plain: [UInt8]) -> [UInt8]? {
        let scratch = CompressionScratch()
        guard let count = plain.withUnsafeBytes({ TrailerPacking.pack($0, into: scratch) }) else { return nil }
        return Array(UnsafeRawBufferPointer(start: scratch.memory, count: count))
    }

    /// SPEC.md §7.3's example: the §7.6 block, `"a"` at sequence 5 → `"x"`, packed.
    @Test func specExamplePacksToKnownBytes() throws {
        let plain = plainBlock([(TableTestData.ikey("a", 5), Array("x".utf8))])
        let packed = try #require(pack(plain))
        #expect(packed == [0x00, 0x09, 0x01, 0x61, 0x81, 0x0A, 0x78, 0, 0, 0, 0, 0x01, 0, 0, 0, 0x15, 0, 0, 0])
        #expect(plain.count == 0x15)
        #expect(try unpack(packed) == plain)
    }

    /// Seeded random blocks: keys of every length (the trailer whole in the delta, or partly
    /// shared with the previous version of the key), sequences from 0 to the maximum, both
    /// kinds, any restart interval; unpacking restores the exact bytes.
    @Test func randomBlocksRoundTripExactly() throws {
        var rng = SplitMix64(seed: 0x7A11E2)
        var packedCount = 0
        for round in 0..<300 {
            var keys: Set<[UInt8]> = []
            let users = Int.random(in: 1...40, using: &rng)
            let sequenceLimit: UInt64 = [0, 300, 1 << 24, maxSequenceNumber][round % 4]
            for _ in 0..<users {
                let user = (0..<Int.random(in: 0...12, using: &rng)).map { _ in UInt8.random(in: 0...3, using: &rng) }
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let sequence = UInt64.random(in: 0...sequenceLimit, using: &rng)
                    keys.insert(InternalKey.make(user, sequence, Bool.random(using: &rng) ? .value : .deletion))
                }
            }
            let sorted = keys.sorted { InternalKey.compare($0, $1) < 0 }
            let entries = sorted.map { key in
                (key, (0..<Int.random(in: 0...30, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
            let plain = plainBlock(entries, restartInterval: Int.random(in: 1...16, using: &rng))
            guard let packed = pack(plain) else {
                // Not packed only when it would not shrink: huge sequences take 9–10 bytes, and
                // in a block of one or two entries the saving may not pay for `plain_size`.
                #expect(sequenceLimit == maxSequenceNumber || entries.count <= 3, "round \(round)")
                continue
            }
            packedCount += 1
            #expect(packed.count < plain.count)
            #expect(try unpack(packed) == plain, "round \(round)")
        }
        #expect(packedCount >= 200)
    }

    /// Damaged packed blocks (a flipped byte or a cut anywhere) unpack to something or are
    /// `corruption` naming the file and offset: never a crash, never an over-read.
    @Test func damagedPackedBlocksAreCorruptionOrDecode() throws {
        let entries = (0..<40).map { i in
            (TableTestData.ikey("key\(1000 + i)", UInt64(i * 37)), Array("value \(i)".utf8))
        }
        let packed = try #require(pack(plainBlock(entries, restartInterval: 4)))
        var corruptions = 0
        var candidates: [[UInt8]] = (0..<packed.count).map { Array(packed[..<$0]) }
        for i in packed.indices {
            for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = packed
                bytes[i] ^= pattern
                candidates.append(bytes)
            }
        }
        for bytes in candidates {
            do {
                _ = try unpack(bytes)
            } catch let error as StorageError {
                #expect(error.code == .corruption)
                #expect(error.file == "t.sst")
                #expect(error.offset == 7)
                corruptions += 1
            }
        }
        #expect(corruptions > packed.count)
    }

    @Test func unpackingPastTheLimitIsCorruption() throws {
        let entries = (0..<20).map { i in (TableTestData.ikey("k\(100 + i)", 1), [UInt8](repeating: 7, count: 50)) }
        let plain = plainBlock(entries)
        let packed = try #require(pack(plain))
        #expect(try unpack(packed, limit: plain.count) == plain)
        #expect(throws: StorageError.self) { try unpack(packed, limit: plain.count - 1) }
    }

    /// A table written now (lz4, packed) says format version 2; one without compression keeps
    /// plain blocks and version 1, as every table written before packing (still read: see
    /// `TableTests.goldenTableV1DecodesToKnownEntries`).
    @Test func packedTablesSayVersionTwoAndReadBack() throws {
        let entries = (0..<500).map { i in
            (TableTestData.ikey("user\(10_000 + i)", UInt64(i + 1)), Array("a value, a value \(i)".utf8))
        }
        for kind in CompressionKind.allCases {
            var options = TableOptions()
            options.compression = kind
            options.blockSize = 1024
            let file = ByteArrayFile()
            let builder = TableBuilder(file: file, options: options)
            for (key, value) in entries { try builder.add(key, value) }
            _ = try builder.finish()
            let version = file.bytes.loadFixed32(at: file.bytes.count - 16)
            #expect(version == (kind == .none ? 1 : 2), "\(kind)")
            let table = try Table.open(file: file, fileNumber: 1, cache: nil)
            let it = table.makeIterator()
            let read = IteratorWalk.forwardKeys(it)
            #expect(it.error == nil)
            #expect(read.count == entries.count)
            #expect(zip(read, entries).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }, "\(kind)")
        }
    }

    /// `Golden/table-v2.sst`, written by `Tools/golden/table-v2.py` from SPEC.md §7 alone: two
    /// data blocks with packed trailers (lz4 `0x81`, and uncompressed `0x80`), an empty filter,
    /// a plain index, footer version 2. It must keep decoding to exactly these entries.
    @Test func goldenTableV2DecodesToKnownEntries() throws {
        let folder = try #require(Bundle.module.url(forResource: "Golden", withExtension: nil))
        let file = try PosixFileSystem().openReadable(folder.appendingPathComponent("table-v2.sst").path)
        #expect(file.size == 1372)
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        var expected: [([UInt8], [UInt8])] = []
        for i in 0..<40 {
            let user = "key" + String(repeating: "0", count: 3 - String(i).count) + String(i)
            if i == 7 { expected.append((TableTestData.ikey(user, 300, .deletion), [])) }
            expected.append((TableTestData.ikey(user, UInt64(100 + i)), Array(String(repeating: "value \(i), ", count: 4).utf8)))
        }
        let it = table.makeIterator()
        let read = IteratorWalk.forwardKeys(it)
        #expect(it.error == nil)
        #expect(read.count == expected.count)
        #expect(zip(read, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
        #expect(try table.get(InternalKey.lookupKey(Array("key007".utf8), maxSequenceNumber))?.key
            == TableTestData.ikey("key007", 300, .deletion))
        #expect(try table.get(InternalKey.lookupKey(Array("key039".utf8), maxSequenceNumber))?.value
            == Array(String(repeating: "value 39, ", count: 4).utf8))
    }
}
