/// How a database is opened and tuned. Defaults suit a small server: 2 cores, a few GiB of RAM.
public struct Options: Sendable {
    /// The seam every file operation goes through (tests inject faults here).
    public var fileSystem: any FileSystem = PosixFileSystem()
    public var createIfMissing = true
    public var errorIfExists = false
    /// Open without taking writes, flushes or compactions (backups, inspection).
    public var readOnly = false

    /// Memtable size at which it is switched and flushed to an L0 table.
    public var memtableSize = 32 << 20
    /// Each memtable keeps a whole-key filter that point reads ask before searching it (SPEC.md
    /// §9.3): a hash and one word update per insert; off only to measure what it costs.
    public var memtableKeyFilter = true
    /// Uncompressed size of a data block.
    public var blockSize = 4096
    /// A data block's keys are prefix-compressed in runs of this many entries, each run starting
    /// at a restart point (SPEC.md §7.2): shorter runs make a seek scan fewer entries, longer
    /// ones store fewer whole keys and restart offsets.
    public var blockRestartInterval = TableOptions().restartInterval
    /// Byte budget of the shared block cache (decompressed blocks).
    public var blockCacheCapacity = 64 << 20
    /// Put each data block a memtable flush writes into the block cache while the cache has
    /// free room (never evicting a block reads brought in), so reads of just-flushed data do not
    /// start by reading and decompressing every block (RocksDB's `prepopulate_block_cache`).
    /// Off by default: in storage-bench it raised peak RSS during fillrandom from 121 to
    /// 232 MiB, more than the cache's budget explains, and slowed every fill (not yet explained).
    public var fillCacheOnFlush = false
    /// Compression of the tables written to each level, L0 first; the last entry repeats for
    /// deeper levels. Fast lz4 where data is rewritten soon, zstd where it settles.
    public var compressionPerLevel: [CompressionKind] = [.lz4, .lz4, .lz4, .zstd]
    /// Compression of the tables a compaction writes when its output level is the deepest
    /// populated one (nothing lives below it), whatever `compressionPerLevel` says for that
    /// level; nil (the default) follows `compressionPerLevel`. That data stays put until the level
    /// below fills, so zstd there saves disk, as RocksDB's `bottommost_compression` does, but every
    /// block-cache miss pays its slower decompression (SPEC.md §9.4 has the measured trade).
    /// Memtable flushes (L0) never use it: L0 is rewritten soon.
    public var bottommostCompression: CompressionKind? = nil
    public var zstdLevel: Int32 = 3
    public var bloomBitsPerKey = 10
    /// Store data blocks with packed trailers (SPEC.md §7.3): about 3 bytes less per entry.
    /// Off writes tables an engine from before packing can read (format version 1).
    public var packTrailers = true
    /// `sync` for writes whose `WriteOptions.sync` is nil.
    public var syncByDefault = false

    /// L0 file count that triggers an L0→L1 compaction.
    public var level0CompactionTrigger = 4
    /// L0 file count from which each write is delayed by 1 ms (once per write).
    public var level0SlowdownTrigger = 12
    /// L0 file count at which writes wait for compaction.
    public var level0StopTrigger = 20
    /// Target size of the first non-zero level; each deeper level is `levelSizeMultiplier` larger.
    public var levelBaseSize: UInt64 = 64 << 20
    public var levelSizeMultiplier: UInt64 = 10
    /// Tables written by compaction are cut at about this size (at a user-key boundary).
    public var targetFileSize: UInt64 = 16 << 20
    /// Run flush and compaction in background threads. Tests may turn this off and drive
    /// `flush()`/`compactRange()` themselves.
    public var backgroundWork = true

    public init() {}

    func compression(forLevel level: Int) -> CompressionKind {
        guard !compressionPerLevel.isEmpty else { return .none }
        return compressionPerLevel[min(level, compressionPerLevel.count - 1)]
    }

    func tableOptions(forLevel level: Int, bottommost: Bool = false) -> TableOptions {
        var t = TableOptions()
        t.blockSize = blockSize
        t.restartInterval = blockRestartInterval
        let bottom = bottommost && level > 0 ? bottommostCompression : nil
        t.compression = bottom ?? compression(forLevel: level)
        t.zstdLevel = zstdLevel
        t.bloomBitsPerKey = bloomBitsPerKey
        t.packTrailers = packTrailers
        return t
    }
}

public struct WriteOptions: Sendable {
    /// true: the write is fsync'd before the call returns. nil: `Options.syncByDefault`.
    /// Without sync a write survives a process crash (it reached the OS) but not a power loss.
    public var sync: Bool?
    public init(sync: Bool? = nil) { self.sync = sync }
}

public struct ReadOptions: Sendable {
    /// Read as of this snapshot; nil reads the latest committed state.
    public var snapshot: Snapshot?
    /// Put blocks read for this operation in the block cache (off for bulk scans).
    public var fillCache = true
    public init(snapshot: Snapshot? = nil, fillCache: Bool = true) {
        self.snapshot = snapshot
        self.fillCache = fillCache
    }
}

/// Limits on what a caller may store.
public enum Limits {
    public static let maxKeySize = 64 * 1024
    public static let maxValueSize = 256 << 20
    public static let numberOfLevels = 7
}
