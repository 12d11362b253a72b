import Glibc
import Synchronization

/// The real file system, through thin POSIX wrappers that retry on EINTR.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func createWritable(_ path: String) throws -> WritableFile {
        let fd = try Posix.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        return PosixWritableFile(path: path, fd: fd, size: 0)
    }

    public func openAppendable(_ path: String) throws -> WritableFile {
        // No O_CREAT: the protocol opens an *existing* file; a missing one is `.notFound`.
        let fd = try Posix.open(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw Posix.error("fstat", path, e)
        }
        return PosixWritableFile(path: path, fd: fd, size: UInt64(st.st_size))
    }

    public func openReadable(_ path: String) throws -> ReadableFile {
        let fd = try Posix.open(path, O_RDONLY | O_CLOEXEC, 0)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw Posix.error("fstat", path, e)
        }
        return PosixReadableFile(path: path, fd: fd, size: UInt64(st.st_size))
    }

    public func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func fileSize(_ path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Posix.error("stat", path, errno) }
        return UInt64(st.st_size)
    }

    public func listDirectory(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else { throw Posix.error("opendir", directory, errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            // readdir returns nil both at the end and on failure; only errno tells them apart.
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw Posix.error("readdir", directory, errno) }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                ptr.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func createDirectory(_ path: String) throws {
        // Creates missing parents too, like `mkdir -p`.
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            guard mkdir(current, 0o755) != 0 else { continue }
            let e = errno
            // EEXIST is fine only if what exists is a directory (not a file in the way).
            var st = stat()
            if e == EEXIST && stat(current, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { continue }
            throw Posix.error("mkdir", current, e)
        }
    }

    public func removeFile(_ path: String) throws {
        guard unlink(path) == 0 else { throw Posix.error("unlink", path, errno) }
    }

    public func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw Posix.error("rename", from, errno) }
    }

    public func link(_ from: String, to: String) throws {
        guard Glibc.link(from, to) == 0 else { throw Posix.error("link", from, errno) }
    }

    public func syncDirectory(_ directory: String) throws {
        let fd = try Posix.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        defer { Glibc.close(fd) }
        guard Posix.retrying({ fsync(fd) }) == 0 else { throw Posix.error("fsync", directory, errno) }
    }

    public func lockFile(_ path: String) throws -> FileLock {
        let fd = try Posix.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        let key = Posix.canonicalPath(path)
        // A second open in this process is answered from the table, at once.
        guard LockTable.shared.insert(key) else {
            Glibc.close(fd)
            throw StorageError(
                .busy, "the database directory is already open in this process (\(path) is locked)",
                file: path, errno: EWOULDBLOCK)
        }
        // flock locks belong to the open file description. A child being spawned by another
        // thread holds a copy of every descriptor until its exec closes them, so a lock released
        // a moment ago can look held: retry for up to ~100 ms before calling it busy.
        var attempt = 0
        while Posix.retrying({ flock(fd, LOCK_EX | LOCK_NB) }) != 0 {
            let e = errno
            if e == EWOULDBLOCK && attempt < 20 {
                attempt += 1
                usleep(5000)
                continue
            }
            Glibc.close(fd)
            LockTable.shared.remove(key)
            if e == EWOULDBLOCK {
                throw StorageError(
                    .busy, "the database directory is in use by another process (\(path) is locked)",
                    file: path, errno: e)
            }
            throw Posix.error("flock", path, e)
        }
        return PosixFileLock(fd: fd, key: key)
    }
}

/// The lock files this process holds, by canonical path.
final class LockTable: Sendable {
    static let shared = LockTable()
    private let paths = Mutex<Set<String>>([])

    /// false when the path is already held.
    func insert(_ path: String) -> Bool { paths.withLock { $0.insert(path).inserted } }
    func remove(_ path: String) { _ = paths.withLock { $0.remove(path) } }
}

/// Small syscall helpers.
enum Posix {
    static func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let r = call()
            if r == -1 && errno == EINTR { continue }
            return r
        }
    }

    /// The absolute path with symbolic links resolved (the path itself when that fails).
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t) throws -> Int32 {
        let fd = retrying { Glibc.open(path, flags, mode) }
        guard fd >= 0 else { throw error("open", path, errno) }
        return fd
    }

    static func error(_ call: String, _ path: String, _ code: Int32) -> StorageError {
        let text = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT:
            return StorageError(.noSpace, "\(call) \(path): \(text)", file: path, errno: code)
        case ENOENT:
            return StorageError(.notFound, "\(call) \(path): \(text)", file: path, errno: code)
        default:
            return StorageError(.io, "\(call) \(path): \(text)", file: path, errno: code)
        }
    }
}

/// Buffers appends (64 KiB) so small log records do not each cost a syscall.
final class PosixWritableFile: WritableFile {
    let path: String
    // `@exclusivity(unchecked)`: a writable file has one owner at a time and no access overlaps
    // another, so the run-time checks would only cost time on every append.
    @exclusivity(unchecked) private var fd: Int32
    /// The buffer: `bufferLimit` bytes allocated once, the first `buffered` of them in use. Raw
    /// memory, so an append is one copy and a flush one `write(2)` (an array cost a uniqueness
    /// check, a retain and a release, and a generic removal, for every record of the log).
    private let buffer: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var buffered = 0
    @exclusivity(unchecked) private(set) var size: UInt64
    /// `startWriteback`'s progress: where its next range starts, and where its last one ended.
    @exclusivity(unchecked) private var writebackFrom: UInt64 = 0
    @exclusivity(unchecked) private var writebackMark: UInt64 = 0
    private static let bufferLimit = 64 * 1024

    init(path: String, fd: Int32, size: UInt64) {
        self.path = path
        self.fd = fd
        self.size = size
        buffer = .allocate(byteCount: Self.bufferLimit, alignment: 16)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        buffer.deallocate()
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(fd >= 0, "append to a closed file")
        if buffered + bytes.count > Self.bufferLimit {
            try flush()
            if bytes.count > Self.bufferLimit {
                try writeAll(bytes)
                size += UInt64(bytes.count)
                return
            }
        }
        if let base = bytes.baseAddress { (buffer + buffered).copyMemory(from: base, byteCount: bytes.count) }
        buffered += bytes.count
        size += UInt64(bytes.count)
    }

    func flush() throws {
        guard buffered > 0 else { return }
        // On failure the buffered bytes are dropped: the caller sees the error and must treat
        // the file's tail as unknown (the engine stops writing to it).
        defer { buffered = 0 }
        try writeAll(UnsafeRawBufferPointer(start: buffer, count: buffered))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw Posix.error("write", path, errno)
            }
            done += n
        }
    }

    func sync() throws {
        try flush()
        try syncFlushed()
    }

    // Reads only `fd`, which the owner changes only in `close`, never concurrent with this.
    func syncFlushed() throws {
        guard Posix.retrying({ fdatasync(fd) }) == 0 else { throw Posix.error("fdatasync", path, errno) }
    }

    func startWriteback() {
        // Only what is already with the OS; a failure here shows again at the sync that follows.
        // Linux starts writeback of a range's dirty pages on POSIX_FADV_DONTNEED without waiting
        // for it (and drops only pages already clean); Swift's Glibc module has no
        // sync_file_range.
        // Each call covers the bytes since the call before last: the new ones start writing and
        // the previous ones, clean by now, leave the cache.
        guard fd >= 0, buffered == 0 else { return }
        _ = posix_fadvise(fd, off_t(writebackFrom), off_t(size - writebackFrom), POSIX_FADV_DONTNEED)
        writebackFrom = writebackMark
        writebackMark = size
    }

    func close() throws {
        guard fd >= 0 else { return }
        defer {
            Glibc.close(fd)
            fd = -1
        }
        try flush()
    }
}

/// Immutable after init, and `pread` is thread-safe: Sendable.
final class PosixReadableFile: ReadableFile, @unchecked Sendable {
    let path: String
    let fd: Int32
    let size: UInt64

    init(path: String, fd: Int32, size: UInt64) {
        self.path = path
        self.fd = fd
        self.size = size
    }

    deinit { Glibc.close(fd) }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let count = buffer.count
        var done = 0
        while done < count {
            let n = pread(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Posix.error("pread", path, errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func willRead(at offset: UInt64, count: Int) {
        guard count > 0, offset < size else { return }
        _ = posix_fadvise(fd, off_t(offset), off_t(count), POSIX_FADV_WILLNEED)
    }

    func close() {}
}

/// Closing the descriptor releases the flock. The descriptor is swapped out atomically so that
/// `unlock` (from any thread) and `deinit` close it exactly once.
final class PosixFileLock: FileLock {
    private let fd: Atomic<Int32>
    private let key: String
    init(fd: Int32, key: String) {
        self.fd = Atomic(fd)
        self.key = key
    }
    func unlock() {
        let old = fd.exchange(-1, ordering: .acquiringAndReleasing)
        if old >= 0 {
            // Unlocked explicitly: closing alone leaves the lock held while a child being
            // spawned by another thread still has a copy of the descriptor (until its exec).
            _ = flock(old, LOCK_UN)
            Glibc.close(old)
            LockTable.shared.remove(key)
        }
    }
    deinit { unlock() }
}
