/// The table format's constants (SPEC.md §7). These numbers ARE the format: changing any of them
/// means a new format version.
enum TableFormat {
    /// Footer's last 8 bytes; on disk (little-endian) they read "osmtable".
    static let magic: UInt64 = 0x656C_6261_746D_736F
    /// 2: some data blocks have packed trailers (`packedTrailersFlag`); 1: none has. A table
    /// without packed blocks is still written as version 1, byte for byte as before.
    static let formatVersion: UInt32 = 2
    static let formatVersionWithoutPackedBlocks: UInt32 = 1
    /// Set in a block's compression byte: the block's trailers are packed (`TrailerPacking`), and
    /// the low bits name its compression.
    static let packedTrailersFlag: UInt8 = 0x80

    /// After every block: compression byte ‖ fixed32 masked crc32c(block bytes ‖ compression byte).
    static let blockTrailerSize = 5

    /// Two block handles (each at most two 10-byte varints), zero-padded to this length.
    static let footerHandlesSize = 2 * BlockHandle.maxEncodedLength
    /// handles (40) ‖ fixed32 version ‖ fixed32 masked crc32c of the preceding 44 bytes ‖ fixed64 magic.
    static let footerSize = footerHandlesSize + 4 + 4 + 8

    /// No block, stored or decompressed, is larger than this (guards against crafted sizes).
    static let maxBlockSize = 64 << 20
    /// The largest entry (key + value) a table accepts, leaving room in a block for a full
    /// `blockSize` of other entries and the restart array.
    static let maxEntrySize = maxBlockSize - (1 << 20)

    /// lz4 and zstd output is kept only if it saves at least 1/8 of the block.
    static let minimumCompressionSavingShift = 3
}

/// The compression byte in every block trailer (SPEC.md §7). The raw values are stored.
public enum CompressionKind: UInt8, Sendable, CaseIterable {
    case none = 0
    case lz4 = 1
    case zstd = 2
}
