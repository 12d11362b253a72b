import Glibc
import Synchronization

/// CRC-32Cs of table files (and closed logs) already read by a backup in this process, so
/// back-to-back backups do not re-read every unchanged table to name its object (SPEC.md §14.2).
/// These files are immutable and links share them, so a file is known by its inode: the key is
/// (device, inode, size, modification time in ns), which a rewritten or replaced file changes.
/// Only files on the real file system are cached (other seams have no inodes).
enum TableChecksumCache {
    struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mtimeNanos: Int64
    }

    /// Bounded: a long-running server with many tables keeps at most this many entries.
    static let capacity = 65_536
    // Guards the cache; held only to look up or insert, never during I/O.
    private static let entries = Mutex<[Key: UInt32]>([:])

    static func key(_ path: String, fileSystem: any FileSystem) -> Key? {
        guard fileSystem is PosixFileSystem else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Key(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
            mtimeNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    /// The size and CRC-32C of the immutable file at `path` (a table, or a log closed for
    /// good), read only if this process has not read that same file before (`wasRead`).
    static func checksum(
        _ path: String, fileSystem: any FileSystem, pacer: CopyPacer? = nil
    ) throws -> (size: UInt64, crc: UInt32, wasRead: Bool) {
        guard let key = key(path, fileSystem: fileSystem) else {
            let r = try FileCopy.checksum(path, fileSystem: fileSystem, pacer: pacer)
            return (r.size, r.crc, true)
        }
        if let crc = entries.withLock({ $0[key] }) { return (UInt64(key.size), crc, false) }
        let result = try FileCopy.checksum(path, fileSystem: fileSystem, pacer: pacer)
        // The file changed under us (it should not: it is immutable): do not remember it.
        guard Self.key(path, fileSystem: fileSystem) == key, result.size == UInt64(key.size) else {
            return (result.size, result.crc, true)
        }
        entries.withLock { e in
            if e.count >= capacity { e.removeAll(keepingCapacity: true) }
            e[key] = result.crc
        }
        return (result.size, result.crc, true)
    }
}
