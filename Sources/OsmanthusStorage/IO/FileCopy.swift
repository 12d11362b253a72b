import Glibc

/// Whole-file copies and checksums through the file-system seam (checkpoints and backups,
/// SPEC.md §14). One reused 4 MiB buffer per call: large reads and writes keep a disk streaming,
/// and no chunk is allocated per step. `copyInKernel` copies a file whose checksum is already
/// known without its bytes entering the process at all.
enum FileCopy {
    static let chunkSize = 4 << 20
    /// How far ahead of the chunk being read the OS is asked to read (`willRead`). One pread at
    /// a time keeps one request in flight and the disk idles while a chunk is checksummed and
    /// written; a window ahead keeps it streaming. Cold reads of 1 GiB on the test machine:
    /// 340–495 MB/s one pread at a time, 1,080–1,200 MB/s with the window.
    static let readAhead = 32 << 20

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
            // Each chunk's writing starts while the next is read (4 MiB chunks go straight to
            // the OS); left to the final sync, a restore would read everything, then write.
            result = try stream(source, pacer: pacer) {
                try target.append($0)
                target.startWriteback()
            }
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

    /// Copies `from` to a new file `to` (replacing it) inside the kernel — sendfile(2), 4 MiB
    /// at a time, each chunk counted by `pacer` — then syncs it and drops its pages from the page
    /// cache (a backup's copy is not read again soon; the database's pages are). No checksum:
    /// for files whose CRC-32C was recorded when they were written (tables, SPEC.md §14.2);
    /// verify and restore re-read the copy against it. Returns the bytes copied: short of the
    /// source's size at open only if the file shrank, which the caller reports. Off the real
    /// file system (test seams), or where sendfile refuses these files, a user-space copy.
    static func copyInKernel(
        _ from: String, to: String, fileSystem: any FileSystem, pacer: CopyPacer? = nil
    ) throws -> UInt64 {
        guard fileSystem is PosixFileSystem else {
            return try copy(from, to: to, fileSystem: fileSystem, pacer: pacer).size
        }
        let source = try Posix.open(from, O_RDONLY | O_CLOEXEC, 0)
        defer { Glibc.close(source) }
        var st = stat()
        guard fstat(source, &st) == 0 else { throw Posix.error("fstat", from, errno) }
        let total = off_t(st.st_size)
        let target = try Posix.open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        var closed = false
        do {
            var offset = off_t(0)
            while offset < total {
                let want = Int(min(off_t(chunkSize), total - offset))
                let n = sendfile(target, source, &offset, want)
                if n < 0 {
                    if errno == EINTR { continue }
                    // Not every pair of files sendfile can join (EINVAL, ENOSYS): the first
                    // call fails before a byte moves, and user space copies instead.
                    if offset == 0, errno == EINVAL || errno == ENOSYS {
                        Glibc.close(target)
                        closed = true
                        return try copy(from, to: to, fileSystem: fileSystem, pacer: pacer).size
                    }
                    throw Posix.error("sendfile", to, errno)
                }
                if n == 0 { break }  // the source shrank: the caller compares sizes
                pacer?.moved(n)
            }
            guard Posix.retrying({ fdatasync(target) }) == 0 else { throw Posix.error("fdatasync", to, errno) }
            _ = posix_fadvise(target, 0, 0, POSIX_FADV_DONTNEED)
            closed = true
            guard Glibc.close(target) == 0 else { throw Posix.error("close", to, errno) }
            return UInt64(offset)
        } catch {
            if !closed { Glibc.close(target) }
            _ = unlink(to)
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
        file.willRead(at: 0, count: Int(min(UInt64(readAhead), total)))
        while offset < total {
            let want = Int(min(UInt64(buffer.count), total - offset))
            let n = try file.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if n == 0 { break }
            // Slide the window: ask for the bytes `readAhead` past this chunk.
            let ahead = offset + UInt64(readAhead)
            if ahead < total { file.willRead(at: ahead, count: Int(min(UInt64(n), total - ahead))) }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            crc = CRC32C.checksum(chunk, extending: crc)
            try body(chunk)
            offset += UInt64(n)
            pacer?.moved(n)
        }
        return (offset, crc)
    }
}
