import Testing

@testable import OsmanthusStorage

/// `Options.bottommostCompression`: the tables a compaction writes into the bottom level are
/// compressed with it, whatever `compressionPerLevel` says; L0 and levels above the bottom are not.
struct BottommostCompressionTests {
    /// Highly compressible values, so compressed and uncompressed tables differ by far more than
    /// any index, filter or footer.
    private func fill(_ db: DB, count: Int) throws {
        for i in 0..<count {
            let key = Array("key-\(1_000_000 + i)".utf8)
            try db.put(key, [UInt8](repeating: UInt8(i % 7), count: 200))
        }
    }

    private func options(bottommost: CompressionKind?) -> Options {
        var o = smallOptions(MemFileSystem(), background: false)
        o.compressionPerLevel = [.none]
        o.bottommostCompression = bottommost
        return o
    }

    /// Fills, flushes (checking L0), compacts everything to the bottom and returns its size.
    private func bottomSize(bottommost: CompressionKind?) throws -> UInt64 {
        let raw = 2_000 * (11 + 8 + 200)
        let db = try DB.open(at: "/db", options: options(bottommost: bottommost))
        try fill(db, count: 2_000)
        try db.flush()
        // A flush writes L0 with the L0 choice (none here), never the bottommost one.
        #expect(db.levelSizes[0] >= UInt64(raw / 2), "L0 after a flush, bottommost \(String(describing: bottommost))")
        try db.compactRange()
        let sizes = db.levelSizes
        #expect(sizes[0] == 0)
        for i in stride(from: 0, to: 2_000, by: 97) {
            #expect(try db.get(Array("key-\(1_000_000 + i)".utf8)) == [UInt8](repeating: UInt8(i % 7), count: 200))
        }
        try db.close()
        return sizes.reduce(0, +)
    }

    @Test func bottomLevelIsCompressedWithTheBottommostChoice() throws {
        let plain = try bottomSize(bottommost: nil)
        #expect(plain >= UInt64(2_000 * (11 + 8 + 200)))
        #expect(try bottomSize(bottommost: .zstd) * 4 < plain)
        #expect(try bottomSize(bottommost: .lz4) * 4 < plain)
    }

    @Test func onlyTheBottomLevelUsesIt() {
        var o = Options()
        o.compressionPerLevel = [.lz4, .lz4, .lz4, .zstd]
        o.bottommostCompression = .zstd
        #expect(o.tableOptions(forLevel: 1).compression == .lz4)
        #expect(o.tableOptions(forLevel: 1, bottommost: true).compression == .zstd)
        // L0 is the bottom of an otherwise empty database, but is flushed again soon.
        #expect(o.tableOptions(forLevel: 0, bottommost: true).compression == .lz4)
        o.bottommostCompression = nil
        #expect(o.tableOptions(forLevel: 2, bottommost: true).compression == .lz4)
        #expect(o.tableOptions(forLevel: 3, bottommost: true).compression == .zstd)
    }
}
