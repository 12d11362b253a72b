/// Writes one table file durably and describes it for a version edit. Used by flush and
/// compaction: build, finish, fsync, close. The caller syncs the directory once for all outputs.
///
/// The CRC-32C of the whole file is computed as its bytes are appended (they are in cache then)
/// and recorded in the table's `FileMetadata`, so a backup names and copies the table without
/// reading it in user space (SPEC.md §8 tag 8, §14.2).
final class TableFileWriter {
    let number: UInt64
    let path: String
    private let file: ChecksummingFile
    private let builder: TableBuilder
    // `@exclusivity(unchecked)`: one owner (a flush or a compaction) and no overlapping access;
    // set on every entry added.
    @exclusivity(unchecked) private(set) var smallest: [UInt8]?
    @exclusivity(unchecked) private(set) var largest: [UInt8] = []

    /// The cache its data blocks also go into (`TableBuilder.fillCache`), evicted on `abandon`.
    private let filledCache: BlockCache?

    init(
        directory: String, number: UInt64, fileSystem: any FileSystem, options: TableOptions,
        fillCache: BlockCache? = nil
    ) throws {
        self.number = number
        path = DBFiles.table(directory, number)
        file = ChecksummingFile(try fileSystem.createWritable(path))
        builder = TableBuilder(file: file, options: options)
        filledCache = fillCache
        if let fillCache { builder.fillCache = (fillCache, number) }
    }

    var entryCount: Int { builder.entryCount }
    var estimatedSize: UInt64 { builder.estimatedFileSize }

    func add(_ key: [UInt8], _ value: [UInt8]) throws {
        if smallest == nil { smallest = key }
        largest = key
        try builder.add(key, value)
    }

    /// Finishes, syncs and closes the file; nil when nothing was added (the file is removed).
    func finish(fileSystem: any FileSystem) throws -> FileMetadata? {
        guard let smallest else {
            filledCache?.evict(fileNumber: number)
            try? file.close()
            try? fileSystem.removeFile(path)
            return nil
        }
        let size = try builder.finish()
        // Every byte of the file went through `append` (it was created empty), so the running
        // CRC is the whole file's; should the sizes ever disagree, record none (a backup then
        // reads the file, as for tables of older manifests).
        let crc = file.size == size ? file.crc : nil
        try file.sync()
        try file.close()
        return FileMetadata(number: number, size: size, smallest: smallest, largest: largest, crc32c: crc)
    }

    /// Drops a half-written output after a failure.
    func abandon(fileSystem: any FileSystem) {
        // No version will name this number: drop the blocks it put in the cache.
        filledCache?.evict(fileNumber: number)
        try? file.close()
        try? fileSystem.removeFile(path)
    }
}

/// A new file that keeps the CRC-32C of everything appended to it.
private final class ChecksummingFile: WritableFile {
    let base: any WritableFile
    // `@exclusivity(unchecked)`: one owner, as `WritableFile` requires; updated on every append.
    @exclusivity(unchecked) private(set) var crc: UInt32 = 0

    init(_ base: any WritableFile) { self.base = base }

    var path: String { base.path }
    var size: UInt64 { base.size }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try base.append(bytes)
        crc = CRC32C.checksum(bytes, extending: crc)
    }

    func flush() throws { try base.flush() }
    func sync() throws { try base.sync() }
    func syncFlushed() throws { try base.syncFlushed() }
    func close() throws { try base.close() }
}
