/// Whole-file copies and checksums through the file-system seam, in 1 MiB chunks (checkpoints
/// and backups, SPEC.md §14).
enum FileCopy {
    static let chunkSize = 1 << 20

    /// Copies `from` to a new file `to` (replacing it), returning the size and CRC-32C of the
    /// bytes copied. `to` is synced before it is closed.
    @discardableResult
    static func copy(_ from: String, to: String, fileSystem: any FileSystem) throws -> (size: UInt64, crc: UInt32) {
        let source = try fileSystem.openReadable(from)
        defer { source.close() }
        let target = try fileSystem.createWritable(to)
        var offset: UInt64 = 0
        var crc: UInt32 = 0
        do {
            while offset < source.size {
                let chunk = try source.read(at: offset, count: Int(min(UInt64(chunkSize), source.size - offset)))
                if chunk.isEmpty { break }
                crc = CRC32C.checksum(chunk, extending: crc)
                try target.append(chunk)
                offset += UInt64(chunk.count)
            }
            try target.sync()
            try target.close()
        } catch {
            try? target.close()
            try? fileSystem.removeFile(to)
            throw error
        }
        return (offset, crc)
    }

    /// The size and CRC-32C of the whole file at `path`.
    static func checksum(_ path: String, fileSystem: any FileSystem) throws -> (size: UInt64, crc: UInt32) {
        let file = try fileSystem.openReadable(path)
        defer { file.close() }
        var offset: UInt64 = 0
        var crc: UInt32 = 0
        while offset < file.size {
            let chunk = try file.read(at: offset, count: Int(min(UInt64(chunkSize), file.size - offset)))
            if chunk.isEmpty { break }
            crc = CRC32C.checksum(chunk, extending: crc)
            offset += UInt64(chunk.count)
        }
        return (offset, crc)
    }
}
