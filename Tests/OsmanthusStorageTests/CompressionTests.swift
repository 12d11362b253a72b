import Testing

@testable import OsmanthusStorage

struct CompressionTests {
    private static func inputs() -> [[UInt8]] {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog ", count: 200).utf8)
        return [[7], Array("abc".utf8), text, random, [UInt8](repeating: 0, count: 100_000)]
    }

    private func compress(_ input: [UInt8], _ kind: CompressionKind) -> [UInt8]? {
        var out: [UInt8] = []
        let ok = input.withUnsafeBytes {
            Compression.compress($0, kind: kind, zstdLevel: 3, into: &out)
        }
        return ok ? out : nil
    }

    private func decompress(_ payload: [UInt8], _ kind: CompressionKind) throws -> [UInt8] {
        try payload.withUnsafeBytes {
            try Compression.decompress($0, kind: kind, file: "c.sst", offset: 99)
        }
    }

    @Test(arguments: [CompressionKind.lz4, .zstd])
    func eachKindRoundTrips(_ kind: CompressionKind) throws {
        for input in Self.inputs() {
            let payload = try #require(compress(input, kind))
            #expect(try decompress(payload, kind) == input)
        }
    }

    /// A table writer reuses one lz4 state and one output buffer for all its blocks: each block
    /// must still decode alone (no reference into an earlier block), including blocks that repeat
    /// earlier ones, whose bytes a shared state would be tempted to point back at.
    @Test(arguments: [CompressionKind.lz4, .zstd])
    func reusedWriterStateCompressesIndependentBlocks(_ kind: CompressionKind) throws {
        var rng = SplitMix64(seed: 0xB10C)
        let lz4 = try #require(Lz4Compressor())
        let zstd = try #require(ZstdCompressor())
        let scratch = CompressionScratch()
        let first = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let blocks = [first, first, Array(first[100...]) + Array(first[..<100]), Self.inputs()[2]]
            + Self.inputs() + [[UInt8](repeating: 9, count: 300_000), first]
        for (i, block) in blocks.enumerated() {
            guard
                let length = block.withUnsafeBytes({
                    Compression.compress(
                        $0, kind: kind, zstdLevel: 3, zstd: zstd, lz4: lz4, scratch: scratch)
                })
            else {
                Issue.record("block \(i) did not compress")
                continue
            }
            let payload = Array(UnsafeRawBufferPointer(start: scratch.memory, count: length))
            #expect(try decompress(payload, kind) == block, "block \(i)")
        }
    }

    @Test(arguments: [CompressionKind.lz4, .zstd])
    func repetitiveDataShrinks(_ kind: CompressionKind) throws {
        let input = [UInt8](repeating: 0x61, count: 4096)
        let payload = try #require(compress(input, kind))
        #expect(payload.count < 200)
    }

    @Test func lz4RecordsTheUncompressedLengthAsAVarint() throws {
        let input = [UInt8](repeating: 1, count: 300)
        let payload = try #require(compress(input, .lz4))
        #expect(Array(payload.prefix(2)) == [0xAC, 0x02])  // 300
    }

    @Test func noneNeverCompresses() {
        #expect(compress([1, 2, 3], .none) == nil)
        #expect((try? decompress([1, 2, 3], .none)) == [1, 2, 3])
    }

    @Test(arguments: [CompressionKind.lz4, .zstd])
    func truncatedPayloadIsCorruption(_ kind: CompressionKind) throws {
        let input = Self.inputs()[2]
        let payload = try #require(compress(input, kind))
        for cut in [1, 2, payload.count / 2, payload.count - 1] {
            expectCorruption { try decompress(Array(payload.prefix(cut)), kind) }
        }
    }

    @Test(arguments: [CompressionKind.lz4, .zstd])
    func garbagePayloadIsCorruption(_ kind: CompressionKind) {
        expectCorruption { try decompress([], kind) }
        expectCorruption { try decompress([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], kind) }
    }

    @Test func lz4LengthThatDisagreesWithThePayloadIsCorruption() throws {
        let input = Self.inputs()[2]
        var payload = try #require(compress(input, .lz4))
        // Claim one byte more and one byte less than the payload decodes to.
        let header = varintLength(UInt64(input.count))
        for claimed in [input.count + 1, input.count - 1] {
            var forged: [UInt8] = []
            forged.appendVarint(claimed)
            forged.append(contentsOf: payload[header...])
            expectCorruption { try decompress(forged, .lz4) }
        }
        // An absurd length is refused before anything is allocated.
        payload.replaceSubrange(0..<header, with: { var v: [UInt8] = []; v.appendVarint(UInt64(1) << 40); return v }())
        expectCorruption { try decompress(payload, .lz4) }
    }

    @Test func zstdFrameClaimingMoreThanTheLimitIsCorruption() throws {
        // A frame header: magic, descriptor 0xE0 (8-byte content size, single segment), then a
        // content size of 1 GiB; refused before any block is decoded.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]
        frame.appendFixed64(1 << 30)
        frame.append(contentsOf: [1, 0, 0, 0])
        expectCorruption { try decompress(frame, .zstd) }
        do {
            _ = try decompress(frame, .zstd)
        } catch let error as StorageError {
            #expect(error.message.contains("exceeds limit"))
        }
    }

    private func expectCorruption(_ body: () throws -> [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let result = try body()
            Issue.record("expected corruption, decoded \(result.count) bytes", sourceLocation: sourceLocation)
        } catch let error as StorageError {
            #expect(error.code == .corruption, sourceLocation: sourceLocation)
            #expect(error.file == "c.sst" && error.offset == 99, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }
}
