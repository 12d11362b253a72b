/// Whole-file copies and checksums through the file-system seam (checkpoints and backups,
/// SPEC.md §14). One reused 4 MiB buffer per call: large reads and writes keep a disk streaming,
/// and no chunk is allocated per step.
enum FileCopy {
    static let chunkSize = 4 << 20

    /// Copies `from` to a new file `to` (replacing it), returning the size and CRC-32C of the
    /// bytes copied. With `sync` (the default) `to` is synced before it is closed; without it the
    /// caller syncs later (`syncFiles`), so the kernel writes one file back while the next is read.
    @discardableResult
    static func copy(
        _ from: String, to: String, fileSystem: any FileSystem, sync: Bool = true, pacer: CopyPacer? = nil
    ) throws -> (size: UInt64, crc: UInt32) {
        let source = try fileSystem.openReadable(from)
        defer { source.close() }
        let target = try fileSystem.createWritable(to)
        var result: (size: UInt64, crc: UInt32) = (0, 0)
        do {
            result = try stream(source, pacer: pacer) { try target.append($0) }
            if sync { try target.sync() } else { try target.flush() }
            try target.close()
        } catch {
            try? target.close()
            try? fileSystem.removeFile(to)
            throw error
        }
        return result
    }

    /// Copies all of the open file `source` to a new file `to` (replacing it), synced; returns
    /// the size and CRC-32C of the bytes copied.
    static func copy(
        _ source: any ReadableFile, to: String, fileSystem: any FileSystem, pacer: CopyPacer? = nil
    ) throws -> (size: UInt64, crc: UInt32) {
        let target = try fileSystem.createWritable(to)
        do {
            let result = try stream(source, pacer: pacer) { try target.append($0) }
            try target.sync()
            try target.close()
            return result
        } catch {
            try? target.close()
            try? fileSystem.removeFile(to)
            throw error
        }
    }

    /// Makes files written by `copy(…, sync: false)` durable.
    static func syncFiles(_ paths: [String], fileSystem: any FileSystem) throws {
        for path in paths {
            let file = try fileSystem.openAppendable(path)
            do {
                try file.sync()
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
        }
    }

    /// The size and CRC-32C of the whole file at `path`.
    static func checksum(
        _ path: String, fileSystem: any FileSystem, pacer: CopyPacer? = nil
    ) throws -> (size: UInt64, crc: UInt32) {
        let file = try fileSystem.openReadable(path)
        defer { file.close() }
        return try stream(file, pacer: pacer) { _ in }
    }

    /// Reads `file` front to back in chunks, handing each to `body` after adding it to the CRC
    /// (and to `pacer`, which may hold the next chunk back).
    private static func stream(
        _ file: any ReadableFile, pacer: CopyPacer?, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (size: UInt64, crc: UInt32) {
        let total = file.size
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(min(UInt64(chunkSize), max(total, 1))), alignment: 64)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        var crc: UInt32 = 0
        while offset < total {
            let want = Int(min(UInt64(buffer.count), total - offset))
            let n = try file.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            crc = CRC32C.checksum(chunk, extending: crc)
            try body(chunk)
            offset += UInt64(n)
            pacer?.moved(n)
        }
        return (offset, crc)
    }
}
