/// The seam between the engine and the operating system's files (STYLE.md "Faults through a
/// file-system seam"). The engine touches files only through this protocol, so tests can swap in
/// `MemFileSystem` (crashable: drops what was not synced) or `FaultInjectionFileSystem`.
///
/// Paths are plain strings; directories are separated by "/".
public protocol FileSystem: Sendable {
    /// Creates (or truncates) a file for appending.
    func createWritable(_ path: String) throws -> WritableFile
    /// Opens an existing file for appending at its end.
    func openAppendable(_ path: String) throws -> WritableFile
    func openReadable(_ path: String) throws -> ReadableFile

    func fileExists(_ path: String) -> Bool
    func fileSize(_ path: String) throws -> UInt64
    /// Names (not paths) of the entries in `directory`.
    func listDirectory(_ directory: String) throws -> [String]
    func createDirectory(_ path: String) throws
    func removeFile(_ path: String) throws
    /// Atomic replace of `to` by `from`.
    func rename(_ from: String, to: String) throws
    /// A hard link (snapshots share immutable files this way).
    func link(_ from: String, to: String) throws
    /// Makes creations, renames and removals in `directory` durable.
    func syncDirectory(_ directory: String) throws
    /// Takes an exclusive lock on `path`, creating it; `.busy` if another process holds it.
    func lockFile(_ path: String) throws -> FileLock
}

/// A file written front to back. Not thread-safe: one owner at a time.
public protocol WritableFile: AnyObject {
    var path: String { get }
    /// Bytes appended so far (including any not yet flushed to the OS).
    var size: UInt64 { get }
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Hands buffered bytes to the OS (survives a process crash, not a power loss).
    func flush() throws
    /// Flushes and makes the contents durable (fsync/fdatasync).
    func sync() throws
    /// Makes durable what earlier `flush`es handed to the OS, without touching the buffer: the
    /// one call that may run on another thread while the owner goes on appending and flushing
    /// (the write-ahead log's fsync overlaps the next group's append, SPEC.md §9.1). Never
    /// concurrent with `close`.
    func syncFlushed() throws
    /// Asks the OS to start writing out what `flush` handed it, without waiting: a long copy
    /// then keeps the disk writing while it reads on, instead of leaving everything to one
    /// `sync` at the end. Durability still takes `sync`. The default does nothing.
    func startWriteback()
    func close() throws
}

extension WritableFile {
    public func startWriteback() {}

    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (raw) throws in try append(raw) }
    }
}

/// A file read at arbitrary offsets; safe to use from many threads at once.
public protocol ReadableFile: AnyObject, Sendable {
    var path: String { get }
    var size: UInt64 { get }
    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
    /// Reads up to `buffer.count` bytes at `offset` into `buffer`; returns how many (fewer only
    /// at the end of the file). The default goes through `read(at:count:)`; a file that can read
    /// in place (pread) overrides it so hot reads need no intermediate array.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// A hint that `count` bytes at `offset` will be read soon, so the OS can start reading them
    /// now (a whole-file copy keeps the disk busy while it checksums and writes). No effect on
    /// what is read; the default does nothing.
    func willRead(at offset: UInt64, count: Int)
    func close()
}

extension ReadableFile {
    public func willRead(at offset: UInt64, count: Int) {}

    /// Reads exactly `count` bytes or fails with `.corruption` (the file is shorter than its
    /// metadata says).
    public func readExactly(at offset: UInt64, count: Int) throws -> [UInt8] {
        let bytes = try read(at: offset, count: count)
        guard bytes.count == count else {
            throw StorageError.corruption(
                "file too short: wanted \(count) bytes, got \(bytes.count)", file: path, offset: offset)
        }
        return bytes
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let bytes = try read(at: offset, count: buffer.count)
        bytes.withUnsafeBytes { source in
            if let base = buffer.baseAddress, let from = source.baseAddress {
                base.copyMemory(from: from, byteCount: source.count)
            }
        }
        return bytes.count
    }

    /// Fills `buffer` from `offset` or fails with `.corruption` like `readExactly(at:count:)`.
    public func readExactly(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let n = try read(at: offset, into: buffer)
        guard n == buffer.count else {
            throw StorageError.corruption(
                "file too short: wanted \(buffer.count) bytes, got \(n)", file: path, offset: offset)
        }
    }
}

/// Held while a database is open; `unlock` releases it.
public protocol FileLock: AnyObject, Sendable {
    func unlock()
}

/// Joins path components with "/".
@inline(__always)
public func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
