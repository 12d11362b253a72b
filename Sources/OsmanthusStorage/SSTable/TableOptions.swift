/// How a `TableBuilder` lays out a table. Reading needs none of these: everything a reader must
/// know is recorded in the file itself.
public struct TableOptions: Sendable {
    /// A data block is closed once its uncompressed size reaches this many bytes.
    public var blockSize: Int = 4096
    /// Keys between restart points are prefix-compressed against their predecessor.
    public var restartInterval: Int = 16
    public var compression: CompressionKind = .none
    public var zstdLevel: Int32 = 3
    /// Bloom filter size; 0 or less writes an empty filter (every lookup reads a block).
    public var bloomBitsPerKey: Int = 10
    /// Pack the trailers of the data blocks it compresses (SPEC.md §7.3). Off: plain blocks and
    /// format version 1, as tables were written before packing.
    public var packTrailers = true

    public init() {}
}
