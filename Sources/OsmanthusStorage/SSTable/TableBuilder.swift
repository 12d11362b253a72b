/// Writes a table (SPEC.md §7): data blocks, then the filter block, the index block and the
/// footer. Keys are internal keys added in strictly increasing `InternalKey.compare` order.
///
/// Not thread-safe: one owner (a flush or a compaction) at a time. A failed write leaves the
/// file's tail unknown; the caller deletes the file.
public final class TableBuilder {
    private let file: WritableFile
    private let options: TableOptions
    // `@exclusivity(unchecked)` on the mutable state: one owner at a time (see above) and no
    // access overlaps another, so the run-time checks (about five per entry added, a
    // thread-local lookup each) would only cost time in every flush and compaction.
    @exclusivity(unchecked) private var dataBlock: BlockBuilder
    @exclusivity(unchecked) private var indexBlock: BlockBuilder
    /// Bloom hashes of distinct user keys (versions of one key share a hash).
    @exclusivity(unchecked) private var filterHashes: [UInt32] = []
    @exclusivity(unchecked) private var lastKey: [UInt8] = []
    /// The data block just written, whose index entry waits for the next key so its separator
    /// can be shortened.
    @exclusivity(unchecked) private var pendingHandle: BlockHandle?
    @exclusivity(unchecked) private var offset: UInt64
    private let compressed = CompressionScratch()
    @exclusivity(unchecked) private var handleScratch: [UInt8] = []
    /// A data block with packed trailers (`TrailerPacking`), before compression.
    private let packedScratch = CompressionScratch()
    /// Whether any block was written with packed trailers (the footer then says version 2).
    @exclusivity(unchecked) private var wrotePackedBlock = false
    @exclusivity(unchecked) private var zstd: ZstdCompressor?
    @exclusivity(unchecked) private var lz4: Lz4Compressor?
    @exclusivity(unchecked) private var finished = false
    /// The compression skip (`shouldTryCompression`): a writer's policy, not the format.
    static let incompressibleRunToSkip = 8
    static let plainBlocksAfterRun = 32
    /// Data blocks in a row that compression did not shrink by 1/8, and how many more data
    /// blocks to store without trying (`shouldTryCompression`).
    @exclusivity(unchecked) private var incompressibleRun = 0
    @exclusivity(unchecked) private var blocksToStorePlain = 0
    /// How many data blocks were compressed, and how many were stored without a try: for tests.
    @exclusivity(unchecked) private(set) var compressedDataBlocks = 0
    @exclusivity(unchecked) private(set) var untriedDataBlocks = 0
    @exclusivity(unchecked) public private(set) var entryCount = 0
    /// When set, each data block written also goes into this cache under this table's file
    /// number, as a read of it would decode it (the plain block), while the cache has free room
    /// (`BlockCache.insertIfRoom`): reads of just-flushed data then start warm, as RocksDB's
    /// `prepopulate_block_cache` does. Whoever abandons the table evicts its number.
    var fillCache: (cache: BlockCache, fileNumber: UInt64)?

    public init(file: WritableFile, options: TableOptions) {
        precondition(options.blockSize > 0 && options.restartInterval > 0, "bad table options")
        precondition(options.blockSize <= TableFormat.maxBlockSize / 2, "block size too large")
        self.file = file
        self.options = options
        self.dataBlock = BlockBuilder(restartInterval: options.restartInterval)
        // One restart per index entry: seeks binary-search straight to the block.
        self.indexBlock = BlockBuilder(restartInterval: 1)
        self.offset = file.size
        if options.compression == .zstd { zstd = ZstdCompressor() }
        if options.compression == .lz4 { lz4 = Lz4Compressor() }
    }

    /// Bytes written so far plus the block being filled.
    public var estimatedFileSize: UInt64 { offset + UInt64(dataBlock.estimatedSize) }

    /// Keys must be strictly increasing in InternalKey.compare order (precondition).
    /// An entry larger than 63 MiB (key + value) is refused with `.limit`.
    public func add(_ internalKey: [UInt8], _ value: [UInt8]) throws {
        precondition(!finished, "add after finish")
        precondition(internalKey.count >= InternalKey.trailerSize, "not an internal key")
        guard internalKey.count + value.count <= TableFormat.maxEntrySize else {
            throw StorageError(
                .limit, "table entry of \(internalKey.count + value.count) bytes exceeds \(TableFormat.maxEntrySize)",
                file: file.path)
        }
        let userCount = internalKey.count - InternalKey.trailerSize
        var sameUserKey = false
        if entryCount > 0 {
            precondition(InternalKey.compare(lastKey, internalKey) < 0, "keys added out of order")
            sameUserKey =
                InternalKey.compareUserKeys(
                    lastKey, lastKey.count - InternalKey.trailerSize, internalKey, userCount) == 0
        }
        if let handle = pendingHandle {
            let separator = TableBuilder.separator(lastKey, internalKey)
            addIndexEntry(separator, handle)
            pendingHandle = nil
        }
        if options.bloomBitsPerKey > 0 && !sameUserKey {
            filterHashes.append(
                internalKey.withUnsafeBufferPointer { BloomFilter.hash(UnsafeBufferPointer(rebasing: $0[..<userCount])) })
        }
        dataBlock.add(internalKey, value)
        lastKey.removeAll(keepingCapacity: true)
        lastKey.append(contentsOf: internalKey)
        entryCount += 1
        if dataBlock.estimatedSize >= options.blockSize {
            try flushDataBlock()
        }
    }

    /// Writes the last data block, filter, index and footer. Does not sync or close the file.
    public func finish() throws -> UInt64 {
        precondition(!finished, "finish called twice")
        finished = true
        try flushDataBlock()
        if let handle = pendingHandle {
            addIndexEntry(TableBuilder.successor(lastKey), handle)
            pendingHandle = nil
        }
        let filter =
            options.bloomBitsPerKey > 0
            ? BloomFilter.build(hashes: filterHashes, bitsPerKey: options.bloomBitsPerKey) : []
        let filterHandle = try filter.withUnsafeBytes { try writeBlock($0, compression: .none) }
        let indexContents = indexBlock.finish()
        let indexHandle = try indexContents.withUnsafeBytes {
            try writeBlock($0, compression: options.compression)
        }
        var footer: [UInt8] = []
        footer.reserveCapacity(TableFormat.footerSize)
        filterHandle.encode(into: &footer)
        indexHandle.encode(into: &footer)
        footer.append(contentsOf: repeatElement(0, count: TableFormat.footerHandlesSize - footer.count))
        footer.appendFixed32(
            wrotePackedBlock ? TableFormat.formatVersion : TableFormat.formatVersionWithoutPackedBlocks)
        footer.appendFixed32(CRC32C.mask(CRC32C.checksum(footer)))
        footer.appendFixed64(TableFormat.magic)
        try file.append(footer)
        offset += UInt64(footer.count)
        return offset
    }

    private func addIndexEntry(_ key: [UInt8], _ handle: BlockHandle) {
        handleScratch.removeAll(keepingCapacity: true)
        handle.encode(into: &handleScratch)
        indexBlock.add(key, handleScratch)
    }

    private func flushDataBlock() throws {
        guard !dataBlock.isEmpty else { return }
        let contents = dataBlock.finish()
        let handle = try contents.withUnsafeBytes { try writeDataBlock($0) }
        pendingHandle = handle
        if let (cache, number) = fillCache,
            cache.hasRoom(fileNumber: number, offset: handle.offset, charge: contents.count),
            let block = try? Block(contents: contents, file: file.path, offset: handle.offset)
        {
            cache.insertIfRoom(fileNumber: number, offset: handle.offset, block: block)
        }
        dataBlock.reset()
    }

    /// A data block to be compressed is packed first (SPEC.md §7.3) when that makes it smaller:
    /// compressed if compression still saves 1/8 of the plain block, else stored packed.
    /// Uncompressed tables keep plain blocks.
    private func writeDataBlock(_ raw: UnsafeRawBufferPointer) throws -> BlockHandle {
        let kind = shouldTryCompression() ? options.compression : .none
        guard options.packTrailers, options.compression != .none,
            let packedCount = TrailerPacking.pack(raw, into: packedScratch)
        else {
            return try writeBlock(raw, compression: kind, dataBlock: true)
        }
        wrotePackedBlock = true
        let flag = TableFormat.packedTrailersFlag
        let packed = UnsafeRawBufferPointer(start: packedScratch.memory, count: packedCount)
        if kind != .none,
            let length = Compression.compress(
                packed, kind: kind, zstdLevel: options.zstdLevel, zstd: zstd, lz4: lz4, scratch: compressed),
            length <= raw.count - raw.count >> TableFormat.minimumCompressionSavingShift
        {
            noteCompression(shrank: true)
            return try append(
                UnsafeRawBufferPointer(start: compressed.memory, count: length), compressionByte: kind.rawValue | flag)
        }
        if kind != .none { noteCompression(shrank: false) }
        return try append(packed, compressionByte: CompressionKind.none.rawValue | flag)
    }

    /// After `Self.incompressibleRunToSkip` data blocks in a row that compression did not
    /// shrink (random or already compressed values), the next `Self.plainBlocksAfterRun`
    /// are stored without a try, then one is tried again. A try on such bytes costs lz4 about
    /// 30 instructions per byte, most of a flush's work, for a block then stored as it was.
    /// Only the writer's effort changes: every block still says how it is stored.
    private func shouldTryCompression() -> Bool {
        guard options.compression != .none else { return false }
        guard blocksToStorePlain == 0 else {
            blocksToStorePlain -= 1
            untriedDataBlocks += 1
            return false
        }
        return true
    }

    private func noteCompression(shrank: Bool) {
        if shrank {
            compressedDataBlocks += 1
            incompressibleRun = 0
            return
        }
        incompressibleRun += 1
        if incompressibleRun >= Self.incompressibleRunToSkip {
            incompressibleRun = 0
            blocksToStorePlain = Self.plainBlocksAfterRun
        }
    }

    /// Appends `block ‖ compression byte ‖ masked crc`, compressed when that saves ≥ 1/8.
    private func writeBlock(_ raw: UnsafeRawBufferPointer, compression: CompressionKind, dataBlock: Bool = false)
        throws -> BlockHandle
    {
        if compression != .none,
            let length = Compression.compress(
                raw, kind: compression, zstdLevel: options.zstdLevel, zstd: zstd, lz4: lz4, scratch: compressed),
            length <= raw.count - raw.count >> TableFormat.minimumCompressionSavingShift
        {
            if dataBlock { noteCompression(shrank: true) }
            return try append(
                UnsafeRawBufferPointer(start: compressed.memory, count: length), compressionByte: compression.rawValue)
        }
        if dataBlock && compression != .none { noteCompression(shrank: false) }
        return try append(raw, compressionByte: CompressionKind.none.rawValue)
    }

    private func append(_ bytes: UnsafeRawBufferPointer, compressionByte: UInt8) throws -> BlockHandle {
        var trailer: [UInt8] = [compressionByte]
        let crc = CRC32C.checksum(trailer, extending: CRC32C.checksum(bytes))
        trailer.appendFixed32(CRC32C.mask(crc))
        try file.append(bytes)
        try file.append(trailer)
        let handle = BlockHandle(offset: offset, size: UInt64(bytes.count))
        offset += UInt64(bytes.count + TableFormat.blockTrailerSize)
        return handle
    }
}

// Index keys: any key ≥ the block's last key and < the next block's first key will do, so a
// shorter one keeps the index small (leveldb's FindShortestSeparator idea).
extension TableBuilder {
    /// The trailer that sorts first among equal user keys: `u ‖ firstTrailer` is the smallest
    /// internal key with user key `u`.
    private static var firstTrailer: UInt64 { InternalKey.packTrailer(maxSequenceNumber, .value) }

    /// A short key `s` with `a ≤ s < b`: the common prefix of the user keys plus one byte that
    /// still sorts below `b`'s, when that is shorter than `a`; otherwise `a`.
    static func separator(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        let aUser = a.count - InternalKey.trailerSize
        let bUser = b.count - InternalKey.trailerSize
        let n = min(aUser, bUser)
        var i = 0
        while i < n && a[i] == b[i] { i += 1 }
        guard i < n, i + 1 < aUser else { return a }  // a is a prefix of b, or nothing to cut
        let byte = a[i]
        guard byte < 0xFF, byte + 1 < b[i] else { return a }
        var s = Array(a[0..<i])
        s.append(byte + 1)
        s.appendFixed64(firstTrailer)
        return s
    }

    /// A short key `s ≥ a`: the user key cut after its first byte that can be incremented.
    static func successor(_ a: [UInt8]) -> [UInt8] {
        let aUser = a.count - InternalKey.trailerSize
        var i = 0
        while i < aUser && a[i] == 0xFF { i += 1 }
        guard i + 1 < aUser else { return a }
        var s = Array(a[0..<i])
        s.append(a[i] + 1)
        s.appendFixed64(firstTrailer)
        return s
    }
}
