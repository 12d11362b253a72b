import Glibc

/// An open table file (SPEC.md §7): the footer, index block and bloom filter are read once at
/// open; data blocks are read on demand, through the block cache when there is one.
///
/// `@unchecked Sendable`: every stored property is immutable after `open`, the file is read with
/// positional reads that are safe from many threads, and the cache owns its own locks.
public final class Table: @unchecked Sendable {
    public let fileNumber: UInt64
    private let file: ReadableFile
    private let cache: BlockCache?
    private let size: UInt64
    private let indexBlock: Block
    /// The filter block's bytes, in memory the table owns, aligned to a cache line so that a
    /// cache-local filter's line is one cache line (SPEC.md §7.4).
    private let filter: UnsafeRawBufferPointer
    /// Where the filter block starts: the end of the data blocks.
    private let dataEnd: UInt64

    public var fileSize: UInt64 { size }
    var path: String { file.path }

    private init(
        file: ReadableFile, fileNumber: UInt64, cache: BlockCache?, size: UInt64, indexBlock: Block,
        filter: [UInt8], dataEnd: UInt64
    ) {
        self.file = file
        self.fileNumber = fileNumber
        self.cache = cache
        self.size = size
        self.indexBlock = indexBlock
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(filter.count, 1), alignment: BloomFilter.lineBytes)
        filter.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress { memory.copyMemory(from: source, byteCount: bytes.count) }
        }
        self.filter = UnsafeRawBufferPointer(start: memory, count: filter.count)
        self.dataEnd = dataEnd
    }

    deinit {
        UnsafeMutableRawPointer(mutating: filter.baseAddress)?.deallocate()
    }

    public static func open(file: ReadableFile, fileNumber: UInt64, cache: BlockCache?) throws -> Table {
        let size = file.size
        let footerSize = UInt64(TableFormat.footerSize)
        guard size >= footerSize else {
            throw StorageError.corruption(
                "table too short for a footer (\(size) bytes)", file: file.path, offset: 0)
        }
        let footerOffset = size - footerSize
        let footer = try file.readExactly(at: footerOffset, count: TableFormat.footerSize)
        let (filterHandle, indexHandle) = try decodeFooter(footer, file: file.path, offset: footerOffset)

        let filter = try readBlockContents(file, filterHandle, limit: footerOffset)
        let indexBlock = try readBlock(file, indexHandle, limit: footerOffset, searchable: true)
        return Table(
            file: file, fileNumber: fileNumber, cache: cache, size: size, indexBlock: indexBlock,
            filter: filter, dataEnd: filterHandle.offset)
    }

    /// The first entry whose internal key is >= lookupKey, if its user key equals the lookup
    /// key's user key (bloom filter checked first: a negative answer reads no data block).
    public func get(_ lookupKey: [UInt8]) throws -> (key: [UInt8], value: [UInt8])? {
        try lookupKey.withUnsafeBytes { try get(lookupKey: $0) }
    }

    /// `get` with the lookup key in memory.
    func get(lookupKey: UnsafeRawBufferPointer) throws -> (key: [UInt8], value: [UInt8])? {
        try withMatchingEntry(lookupKey, hash: Self.filterHash(lookupKey)) { key, value in (Array(key.bindMemory(to: UInt8.self)), Array(value.bindMemory(to: UInt8.self))) }
    }

    /// `get` for point reads: calls `body` with the entry's kind byte and its value, lent from
    /// the block only for the call (nothing is copied), or returns nil when there is no entry.
    /// `hash` is `filterHash(lookupKey)`, computed once by a caller probing several tables.
    func withEntry<R>(
        _ lookupKey: UnsafeRawBufferPointer, hash: UInt32,
        _ body: (_ kind: UInt8, _ value: UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try withMatchingEntry(lookupKey, hash: hash) { key, value in
            try body(key.load(fromByteOffset: key.count - InternalKey.trailerSize, as: UInt8.self), value)
        }
    }

    /// The bloom filter hash of an internal lookup key's user key (the same in every table).
    @inline(__always)
    static func filterHash(_ lookupKey: UnsafeRawBufferPointer) -> UInt32 {
        precondition(lookupKey.count >= InternalKey.trailerSize, "not an internal key")
        return BloomFilter.hash(
            UnsafeRawBufferPointer(rebasing: lookupKey[..<(lookupKey.count - InternalKey.trailerSize)])
                .assumingMemoryBound(to: UInt8.self))
    }

    /// Calls `body` with `get`'s entry (key and value lent for the call), or returns nil when
    /// there is none. Bloom filter, then one index search and one data-block search straight
    /// over the blocks' bytes: no iterator, no key buffer on the heap.
    private func withMatchingEntry<R>(
        _ target: UnsafeRawBufferPointer, hash: UInt32,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        precondition(target.count >= InternalKey.trailerSize, "not an internal key")
        let userCount = target.count - InternalKey.trailerSize
        guard BloomFilter.mayContain(filter, hash: hash) else { return nil }
        let indexEntry = try indexBlock.withFirstEntry(atOrAfter: target) { _, value in
            value.withMemoryRebound(to: UInt8.self) { BlockHandle.decodeExactly($0) }
        }
        guard let indexEntry else { return nil }  // past the table's last key
        guard let handle = indexEntry else {
            throw StorageError.corruption(
                "index entry is not a block handle", file: file.path, offset: indexBlock.offset)
        }
        let block = try self.block(at: handle, fillCache: true)
        let result = try block.withFirstEntry(atOrAfter: target) { key, value -> R? in
            // Same user key? Compared in place (block keys are at least a trailer long).
            guard key.count - InternalKey.trailerSize == userCount else { return nil }
            if userCount > 0, let a = key.baseAddress, let b = target.baseAddress,
                memcmp(a, b, userCount) != 0
            {
                return nil
            }
            return try body(key, value)
        }
        return result ?? nil
    }

    public func makeIterator(fillCache: Bool = true) -> InternalIterator {
        makeTableIterator(fillCache: fillCache)
    }

    /// `makeIterator` with its concrete type, for callers that move it in hot loops.
    /// The index block, for `TableIterator.retarget`.
    var indexBlockForIterators: Block { indexBlock }

    func makeTableIterator(fillCache: Bool) -> TableIterator {
        TableIterator(table: self, index: indexBlock.makeIterator(), fillCache: fillCache)
    }

    /// Approximate byte offset in the file where `internalKey` would be.
    public func approximateOffset(of internalKey: [UInt8]) -> UInt64 {
        let index = indexBlock.makeIterator()
        index.seek(internalKey)
        if index.isValid, let handle = try? dataHandle(at: index) {
            return handle.offset
        }
        // Past the last key (or a damaged index): the end of the data.
        return dataEnd
    }

    /// The data block handle stored as the index iterator's current value.
    func dataHandle(at index: BlockIterator) throws -> BlockHandle {
        let handle = index.withValueBytes { BlockHandle.decodeExactly($0) }
        guard let handle else {
            throw StorageError.corruption(
                "index entry is not a block handle", file: file.path, offset: indexBlock.offset)
        }
        return handle
    }

    /// A data block, from the cache or the file.
    func block(at handle: BlockHandle, fillCache: Bool) throws -> Block {
        if let cache, let cached = cache.lookup(fileNumber: fileNumber, offset: handle.offset) {
            return cached
        }
        let block = try Table.readBlock(file, handle, limit: dataEnd)
        if fillCache, let cache {
            cache.insert(fileNumber: fileNumber, offset: handle.offset, block: block)
        }
        return block
    }

    /// Reads `handle`'s block, which must end (trailer included) by `limit`, checks its trailer
    /// and decompresses it.
    static func readBlockContents(_ file: ReadableFile, _ handle: BlockHandle, limit: UInt64) throws -> [UInt8] {
        let (memory, count) = try readDecoded(file, handle, limit: limit)
        defer { memory.deallocate() }
        return Array(UnsafeBufferPointer(start: memory, count: count))
    }

    /// `readBlockContents` as a `Block` (data and index blocks).
    static func readBlock(_ file: ReadableFile, _ handle: BlockHandle, limit: UInt64, searchable: Bool = false)
        throws -> Block
    {
        let (memory, count) = try readDecoded(file, handle, limit: limit)
        return try Block(
            adopting: memory, count: count, file: file.path, offset: handle.offset, searchable: searchable)
    }

    /// The checked, decompressed bytes of `handle`'s block in memory the caller then owns, with
    /// no intermediate arrays: the stored bytes are read into this thread's scratch (a large
    /// block into a buffer of its own, which a raw block then keeps) and decoded from there into
    /// fresh memory, through the scratch's second buffer when a compressed block is also packed.
    private static func readDecoded(_ file: ReadableFile, _ handle: BlockHandle, limit: UInt64) throws
        -> (memory: UnsafeMutablePointer<UInt8>, count: Int)
    {
        let trailerSize = UInt64(TableFormat.blockTrailerSize)
        guard limit >= trailerSize, handle.size <= limit - trailerSize,
            handle.offset <= limit - trailerSize - handle.size
        else {
            throw StorageError.corruption(
                "block handle (offset \(handle.offset), size \(handle.size)) is outside the file's \(limit) bytes",
                file: file.path, offset: handle.offset)
        }
        // Stored blocks are never larger than a decoded block may be (the builder keeps
        // compressed output only when it is smaller).
        guard handle.size <= UInt64(TableFormat.maxBlockSize) else {
            throw StorageError.corruption(
                "block size \(handle.size) exceeds the \(TableFormat.maxBlockSize)-byte limit",
                file: file.path, offset: handle.offset)
        }
        let n = Int(handle.size)
        // The stored bytes go to this thread's scratch (`BlockReadScratch`) unless the block is
        // large; only a raw block kept as it is read needs memory of its own, and gets a copy.
        let scratch = n <= BlockReadScratch.limit ? BlockReadScratch.current : nil
        let stored: UnsafeMutablePointer<UInt8>
        if let scratch {
            stored = scratch.stored.reserve(n + TableFormat.blockTrailerSize).assumingMemoryBound(to: UInt8.self)
        } else {
            stored = UnsafeMutablePointer<UInt8>.allocate(capacity: n + TableFormat.blockTrailerSize)
        }
        var adopted = scratch != nil
        defer { if !adopted { stored.deallocate() } }
        let raw = UnsafeMutableRawBufferPointer(start: stored, count: n + TableFormat.blockTrailerSize)
        try file.readExactly(at: handle.offset, into: raw)
        let expected = CRC32C.unmask(
            UInt32(littleEndian: UnsafeRawPointer(stored).loadUnaligned(fromByteOffset: n + 1, as: UInt32.self)))
        let actual = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[..<(n + 1)]))
        guard expected == actual else {
            throw StorageError.corruption("block checksum mismatch", file: file.path, offset: handle.offset)
        }
        let byte = stored[n]
        let packed = byte & TableFormat.packedTrailersFlag != 0
        guard let kind = CompressionKind(rawValue: byte & ~TableFormat.packedTrailersFlag) else {
            throw StorageError.corruption(
                "unknown compression byte \(byte)", file: file.path, offset: handle.offset)
        }
        let contents = UnsafeRawBufferPointer(rebasing: raw[..<n])
        if kind == .none && !packed {
            if scratch != nil {
                let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
                memory.update(from: stored, count: n)
                return (memory, n)
            }
            adopted = true
            return (stored, n)
        }
        if !packed {
            return try Compression.decompressToMemory(contents, kind: kind, file: file.path, offset: handle.offset)
        }
        // Packed trailers (SPEC.md §7.3): decompressed (if compressed), then unpacked.
        if kind == .none {
            return try TrailerPacking.unpack(
                contents, limit: TableFormat.maxBlockSize, file: file.path, offset: handle.offset)
        }
        if let scratch {
            let count = try Compression.decompress(
                contents, kind: kind, file: file.path, offset: handle.offset, into: scratch.decompressed)
            return try TrailerPacking.unpack(
                UnsafeRawBufferPointer(start: scratch.decompressed.memory, count: count),
                limit: TableFormat.maxBlockSize, file: file.path, offset: handle.offset)
        }
        let (memory, count) = try Compression.decompressToMemory(
            contents, kind: kind, file: file.path, offset: handle.offset)
        defer { memory.deallocate() }
        return try TrailerPacking.unpack(
            UnsafeRawBufferPointer(start: memory, count: count), limit: TableFormat.maxBlockSize, file: file.path,
            offset: handle.offset)
    }

    /// Checks the footer's magic, checksum and version; returns the filter and index handles.
    static func decodeFooter(_ footer: [UInt8], file: String, offset: UInt64) throws -> (BlockHandle, BlockHandle) {
        func corrupt(_ message: String) -> StorageError {
            StorageError.corruption("table footer: \(message)", file: file, offset: offset)
        }
        let handlesEnd = TableFormat.footerHandlesSize
        guard footer.loadFixed64(at: handlesEnd + 8) == TableFormat.magic else {
            throw corrupt("bad magic number (not a table file)")
        }
        let stored = CRC32C.unmask(footer.loadFixed32(at: handlesEnd + 4))
        guard stored == CRC32C.checksum(footer[..<(handlesEnd + 4)]) else { throw corrupt("checksum mismatch") }
        let version = footer.loadFixed32(at: handlesEnd)
        guard version == TableFormat.formatVersion || version == TableFormat.formatVersionWithoutPackedBlocks else {
            throw corrupt("unsupported format version \(version)")
        }
        let handles = footer.withUnsafeBufferPointer { buf -> (BlockHandle, BlockHandle)? in
            var position = 0
            guard let filter = BlockHandle.decode(buf, &position, end: handlesEnd),
                let index = BlockHandle.decode(buf, &position, end: handlesEnd)
            else { return nil }
            return (filter, index)
        }
        guard let handles else { throw corrupt("bad block handle") }
        return handles
    }
}
