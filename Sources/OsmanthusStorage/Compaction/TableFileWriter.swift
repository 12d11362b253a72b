/// Writes one table file durably and describes it for a version edit. Used by flush and
/// compaction: build, finish, fsync, close. The caller syncs the directory once for all outputs.
final class TableFileWriter {
    let number: UInt64
    let path: String
    private let file: WritableFile
    private let builder: TableBuilder
    // `@exclusivity(unchecked)`: one owner (a flush or a compaction) and no overlapping access;
    // set on every entry added.
    @exclusivity(unchecked) private(set) var smallest: [UInt8]?
    @exclusivity(unchecked) private(set) var largest: [UInt8] = []

    init(directory: String, number: UInt64, fileSystem: any FileSystem, options: TableOptions) throws {
        self.number = number
        path = DBFiles.table(directory, number)
        file = try fileSystem.createWritable(path)
        builder = TableBuilder(file: file, options: options)
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
            try? file.close()
            try? fileSystem.removeFile(path)
            return nil
        }
        let size = try builder.finish()
        try file.sync()
        try file.close()
        return FileMetadata(number: number, size: size, smallest: smallest, largest: largest)
    }

    /// Drops a half-written output after a failure.
    func abandon(fileSystem: any FileSystem) {
        try? file.close()
        try? fileSystem.removeFile(path)
    }
}
