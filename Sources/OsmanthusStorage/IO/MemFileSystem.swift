import Synchronization

/// An in-memory `FileSystem` that remembers what a power loss would keep (Pebble's `MemFS` with
/// `CrashClone`, leveldb's `FaultInjectionTestEnv`).
///
/// Two things are durable only when the program asked for them to be:
/// - a file's bytes, up to its last `WritableFile.sync()`;
/// - a directory's entries (files and subdirectories created, renamed, linked or removed in it),
///   as of its last `syncDirectory`. A new database directory therefore needs its *parent*
///   synced too, as on a real disk.
///
/// `crashClone()` returns a new file system holding only that durable state, as if the machine
/// lost power now. Open handles keep working on the original.
///
/// Paths are strings normalized lexically ("a//b/./c" is "a/b/c"). Absolute paths live under
/// "/" and relative ones under "."; both roots always exist and survive crashes. Directories
/// cannot be renamed or removed (the engine does neither).
///
/// Safe to use from many threads: one `Mutex` (`state`) guards everything, so the class is
/// checked `Sendable` without `@unchecked`.
public final class MemFileSystem: FileSystem {
    /// One file's contents (an inode: hard links share it).
    struct Inode {
        var data: [UInt8] = []
        /// `data[0..<syncedLength]` is durable, unless `syncedOverride` is set.
        var syncedLength = 0
        /// Durable contents that are no longer a prefix of `data` (the file was truncated by
        /// `createWritable` after a sync). Kept apart so that `sync` stays O(1) and appends after
        /// a sync do not copy the whole file.
        var syncedOverride: [UInt8]?

        var durableContents: [UInt8] {
            syncedOverride ?? Array(data[0..<syncedLength])
        }
    }

    enum SyncedEntry {
        case file(inode: Int)
        case directory
    }

    struct State {
        var directories: Set<String> = ["/", "."]
        /// Current path → inode id.
        var files: [String: Int] = [:]
        var inodes: [Int: Inode] = [:]
        var nextInode = 1
        /// Directory path → its entries (name → what) as of its last `syncDirectory`.
        var syncedEntries: [String: [String: SyncedEntry]] = [:]
        /// Inode id → number of open handles; an unlinked inode lives while it has any.
        var openHandles: [Int: Int] = [:]
        /// Locked path → the token of the `FileLock` that holds it.
        var locks: [String: Int] = [:]
        var nextLockToken = 1
    }

    /// Guards all of the file system: names, inodes and their bytes, synced state, open-handle
    /// counts and locks. Handles go through it too, so it is never held during caller code.
    let state: Mutex<State>

    public init() {
        state = Mutex(State())
    }

    private init(state: sending State) {
        self.state = Mutex(state)
    }

    // MARK: Files

    public func createWritable(_ path: String) throws -> WritableFile {
        let path = MemPath.normalize(path)
        let id = try state.withLock { state throws -> Int in
            try Self.requireParent(of: path, in: state, call: "create")
            if state.directories.contains(path) {
                throw StorageError(.io, "create \(path): is a directory", file: path)
            }
            if let id = state.files[path] {
                // O_TRUNC keeps the inode; what was synced stays durable until the next sync.
                if let inode = state.inodes[id] {
                    var truncated = inode
                    if truncated.syncedOverride == nil {
                        truncated.syncedOverride = inode.durableContents
                    }
                    truncated.data = []
                    truncated.syncedLength = 0
                    state.inodes[id] = truncated
                }
                state.openHandles[id, default: 0] += 1
                return id
            }
            let id = Self.newInode(in: &state)
            state.files[path] = id
            state.openHandles[id, default: 0] += 1
            return id
        }
        return MemWritableFile(fileSystem: self, path: path, inode: id, size: 0)
    }

    public func openAppendable(_ path: String) throws -> WritableFile {
        let path = MemPath.normalize(path)
        let (id, size) = try state.withLock { state throws -> (Int, Int) in
            let id = try Self.requireFile(path, in: state, call: "open")
            state.openHandles[id, default: 0] += 1
            return (id, state.inodes[id]?.data.count ?? 0)
        }
        return MemWritableFile(fileSystem: self, path: path, inode: id, size: UInt64(size))
    }

    public func openReadable(_ path: String) throws -> ReadableFile {
        let path = MemPath.normalize(path)
        let (id, size) = try state.withLock { state throws -> (Int, Int) in
            let id = try Self.requireFile(path, in: state, call: "open")
            state.openHandles[id, default: 0] += 1
            return (id, state.inodes[id]?.data.count ?? 0)
        }
        return MemReadableFile(fileSystem: self, path: path, inode: id, size: UInt64(size))
    }

    public func fileExists(_ path: String) -> Bool {
        let path = MemPath.normalize(path)
        return state.withLock { $0.files[path] != nil || $0.directories.contains(path) }
    }

    public func fileSize(_ path: String) throws -> UInt64 {
        let path = MemPath.normalize(path)
        return try state.withLock { state throws -> UInt64 in
            let id = try Self.requireFile(path, in: state, call: "stat")
            return UInt64(state.inodes[id]?.data.count ?? 0)
        }
    }

    // MARK: Directories

    public func listDirectory(_ directory: String) throws -> [String] {
        let directory = MemPath.normalize(directory)
        return try state.withLock { state throws -> [String] in
            guard state.directories.contains(directory) else {
                throw StorageError(.notFound, "opendir \(directory): no such directory", file: directory)
            }
            var names: [String] = []
            for path in state.files.keys where MemPath.parent(of: path) == directory {
                names.append(MemPath.name(of: path))
            }
            for path in state.directories where path != directory && MemPath.parent(of: path) == directory {
                names.append(MemPath.name(of: path))
            }
            return names.sorted()
        }
    }

    public func createDirectory(_ path: String) throws {
        let path = MemPath.normalize(path)
        try state.withLock { state throws in
            // Like `mkdir -p`: every missing ancestor is created.
            let wanted = MemPath.ancestors(of: path) + [path]
            for directory in wanted where !state.directories.contains(directory) {
                if state.files[directory] != nil {
                    throw StorageError(.io, "mkdir \(directory): a file is in the way", file: directory)
                }
                state.directories.insert(directory)
            }
        }
    }

    public func removeFile(_ path: String) throws {
        let path = MemPath.normalize(path)
        try state.withLock { state throws in
            let id = try Self.requireFile(path, in: state, call: "unlink")
            state.files[path] = nil
            Self.collectIfUnreferenced(id, in: &state)
        }
    }

    public func rename(_ from: String, to: String) throws {
        let from = MemPath.normalize(from)
        let to = MemPath.normalize(to)
        try state.withLock { state throws in
            if state.directories.contains(from) {
                throw StorageError(
                    .unsupported, "rename \(from): MemFileSystem does not rename directories", file: from)
            }
            let id = try Self.requireFile(from, in: state, call: "rename")
            try Self.requireParent(of: to, in: state, call: "rename")
            if state.directories.contains(to) {
                throw StorageError(.io, "rename \(from) to \(to): target is a directory", file: to)
            }
            guard from != to else { return }
            let replaced = state.files[to]
            state.files[from] = nil
            state.files[to] = id
            if let replaced, replaced != id { Self.collectIfUnreferenced(replaced, in: &state) }
        }
    }

    public func link(_ from: String, to: String) throws {
        let from = MemPath.normalize(from)
        let to = MemPath.normalize(to)
        try state.withLock { state throws in
            let id = try Self.requireFile(from, in: state, call: "link")
            try Self.requireParent(of: to, in: state, call: "link")
            if state.files[to] != nil || state.directories.contains(to) {
                throw StorageError(.io, "link \(from) to \(to): target exists", file: to)
            }
            state.files[to] = id
        }
    }

    public func syncDirectory(_ directory: String) throws {
        let directory = MemPath.normalize(directory)
        try state.withLock { state throws in
            guard state.directories.contains(directory) else {
                throw StorageError(.notFound, "open \(directory): no such directory", file: directory)
            }
            var entries: [String: SyncedEntry] = [:]
            for (path, id) in state.files where MemPath.parent(of: path) == directory {
                entries[MemPath.name(of: path)] = .file(inode: id)
            }
            for path in state.directories where path != directory && MemPath.parent(of: path) == directory {
                entries[MemPath.name(of: path)] = .directory
            }
            let dropped = state.syncedEntries[directory] ?? [:]
            state.syncedEntries[directory] = entries
            // Inodes only the old entries kept alive may now go.
            for case .file(let id) in dropped.values { Self.collectIfUnreferenced(id, in: &state) }
        }
    }

    public func lockFile(_ path: String) throws -> FileLock {
        let path = MemPath.normalize(path)
        let token = try state.withLock { state throws -> Int in
            try Self.requireParent(of: path, in: state, call: "open")
            if state.directories.contains(path) {
                throw StorageError(.io, "open \(path): is a directory", file: path)
            }
            if state.locks[path] != nil {
                throw StorageError(
                    .busy, "the database directory is in use by another handle (\(path) is locked)",
                    file: path)
            }
            if state.files[path] == nil {
                state.files[path] = Self.newInode(in: &state)
            }
            let token = state.nextLockToken
            state.nextLockToken += 1
            state.locks[path] = token
            return token
        }
        return MemFileLock(fileSystem: self, path: path, token: token)
    }

    // MARK: Crashes

    /// A new file system holding only what was durable: each file cut back to its synced
    /// contents, each directory holding its entries as of its last `syncDirectory` (a directory
    /// whose own entry in its parent was never synced is lost with everything in it). No locks
    /// are held in the clone.
    public func crashClone() -> MemFileSystem {
        let clone = state.withLock { state -> State in
            var clone = State()
            var newIDs: [Int: Int] = [:]  // old inode → new, so hard links stay shared
            var pending = ["/", "."]
            while let directory = pending.popLast() {
                guard let entries = state.syncedEntries[directory] else { continue }
                clone.syncedEntries[directory] = [:]
                for (name, entry) in entries {
                    let path = MemPath.join(directory, name)
                    switch entry {
                    case .directory:
                        clone.directories.insert(path)
                        clone.syncedEntries[directory]?[name] = .directory
                        pending.append(path)
                    case .file(let old):
                        let id: Int
                        if let known = newIDs[old] {
                            id = known
                        } else {
                            let contents = state.inodes[old]?.durableContents ?? []
                            id = Self.newInode(in: &clone, contents: contents)
                            newIDs[old] = id
                        }
                        clone.files[path] = id
                        clone.syncedEntries[directory]?[name] = .file(inode: id)
                    }
                }
            }
            return clone
        }
        return MemFileSystem(state: clone)
    }

    // MARK: Helpers (called with the lock held)

    private static func newInode(in state: inout State, contents: [UInt8] = []) -> Int {
        let id = state.nextInode
        state.nextInode += 1
        state.inodes[id] = Inode(data: contents, syncedLength: contents.count)
        return id
    }

    private static func requireParent(of path: String, in state: State, call: String) throws {
        let parent = MemPath.parent(of: path)
        guard state.directories.contains(parent) else {
            throw StorageError(.notFound, "\(call) \(path): no such directory \(parent)", file: path)
        }
    }

    private static func requireFile(_ path: String, in state: State, call: String) throws -> Int {
        if state.directories.contains(path) {
            throw StorageError(.io, "\(call) \(path): is a directory", file: path)
        }
        guard let id = state.files[path] else {
            throw StorageError(.notFound, "\(call) \(path): no such file", file: path)
        }
        return id
    }

    /// Frees an inode no name, synced entry or open handle refers to any more.
    static func collectIfUnreferenced(_ id: Int, in state: inout State) {
        if state.openHandles[id, default: 0] > 0 { return }
        if state.files.values.contains(id) { return }
        for entries in state.syncedEntries.values {
            for case .file(let other) in entries.values where other == id { return }
        }
        state.inodes[id] = nil
    }

    /// Called by a handle when it is closed or released.
    func releaseHandle(_ id: Int) {
        state.withLock { state in
            let count = state.openHandles[id, default: 0] - 1
            state.openHandles[id] = count > 0 ? count : nil
            Self.collectIfUnreferenced(id, in: &state)
        }
    }
}

/// Lexical path handling for `MemFileSystem`.
enum MemPath {
    /// Drops empty and "." components and resolves ".." lexically; "" and "." become ".".
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The directory holding `path` (a normalized path other than a root).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func join(_ directory: String, _ name: String) -> String {
        if directory == "." { return name }
        return directory == "/" ? "/" + name : directory + "/" + name
    }

    /// Every directory above `path`, outermost first, without the root.
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = path
        while current != "/" && current != "." {
            current = parent(of: current)
            if current != "/" && current != "." { result.append(current) }
        }
        return result.reversed()
    }
}
