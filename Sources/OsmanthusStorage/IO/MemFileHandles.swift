// The handles `MemFileSystem` gives out. Each holds its inode id and goes through the file
// system's lock for every access.

/// Appends straight into the inode: there is no process-level buffer, so `flush` has nothing to do.
final class MemWritableFile: WritableFile {
    let path: String
    private let fileSystem: MemFileSystem
    private let inode: Int
    private(set) var size: UInt64
    private var closed = false

    init(fileSystem: MemFileSystem, path: String, inode: Int, size: UInt64) {
        self.fileSystem = fileSystem
        self.path = path
        self.inode = inode
        self.size = size
    }

    deinit {
        if !closed { fileSystem.releaseHandle(inode) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!closed, "append to a closed file")
        let id = inode
        fileSystem.state.withLock { state in
            state.inodes[id]?.data.append(contentsOf: bytes)
        }
        size += UInt64(bytes.count)
    }

    func flush() throws {
        precondition(!closed, "flush of a closed file")
    }

    func sync() throws {
        try syncFlushed()
    }

    /// Nothing is buffered here, so everything appended so far becomes durable; the inode is
    /// changed under the file system's lock, as `append` does.
    func syncFlushed() throws {
        precondition(!closed, "sync of a closed file")
        let id = inode
        fileSystem.state.withLock { state in
            guard let length = state.inodes[id]?.data.count else { return }
            state.inodes[id]?.syncedLength = length
            state.inodes[id]?.syncedOverride = nil
        }
    }

    func close() throws {
        guard !closed else { return }
        closed = true
        fileSystem.releaseHandle(inode)
    }
}

/// Reads whatever the inode holds at the time of the read, as `pread` would; `size` is the size
/// at open, as `fstat` gave it.
final class MemReadableFile: ReadableFile {
    let path: String
    let size: UInt64
    private let fileSystem: MemFileSystem
    private let inode: Int

    init(fileSystem: MemFileSystem, path: String, inode: Int, size: UInt64) {
        self.fileSystem = fileSystem
        self.path = path
        self.inode = inode
        self.size = size
    }

    deinit { fileSystem.releaseHandle(inode) }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        precondition(count >= 0, "negative read count")
        let id = inode
        return fileSystem.state.withLock { state -> [UInt8] in
            guard let data = state.inodes[id]?.data, offset < UInt64(data.count) else { return [] }
            let start = Int(offset)
            return Array(data[start..<(start + min(count, data.count - start))])
        }
    }

    func close() {}
}

/// Releases the path when unlocked (once; later calls do nothing).
final class MemFileLock: FileLock {
    private let fileSystem: MemFileSystem
    private let path: String
    private let token: Int

    init(fileSystem: MemFileSystem, path: String, token: Int) {
        self.fileSystem = fileSystem
        self.path = path
        self.token = token
    }

    func unlock() {
        let path = path
        let token = token
        fileSystem.state.withLock { state in
            if state.locks[path] == token { state.locks[path] = nil }
        }
    }
}
