import Synchronization

/// Wraps another `FileSystem` and fails chosen operations (Pebble's `vfs/errorfs`): "the third
/// write to a `.log` file fails with ENOSPC", "every directory sync fails with EIO".
///
/// Files it opens are wrapped too and consult the same rules, so a rule can fire long after the
/// file was opened. A failing call is refused before it reaches the base file system, so a failed
/// write leaves no partial bytes behind.
public final class FaultInjectionFileSystem: FileSystem {
    public enum Operation: Sendable, Hashable {
        /// `createWritable`.
        case create
        /// `openAppendable` and `openReadable`.
        case open
        /// `ReadableFile.read`.
        case read
        /// `WritableFile.append` and `flush`.
        case write
        /// `WritableFile.sync`.
        case sync
        /// `WritableFile.close`.
        case close
        case rename, remove, link, syncDirectory
        /// `listDirectory`.
        case list
        /// `lockFile`.
        case lock
        case createDirectory
    }

    struct Rule {
        var operation: Operation
        var code: StorageError.Code
        var errno: Int32?
        var pathContains: String?
        /// Matching calls still to let through before failing.
        var skip: Int
        /// Failures still to cause; nil = until cleared.
        var remaining: Int?

        func matches(_ operation: Operation, _ paths: [String]) -> Bool {
            guard operation == self.operation else { return false }
            guard let pathContains else { return true }
            return paths.contains { $0.contains(pathContains) }
        }
    }

    struct State {
        var rules: [Rule] = []
        var injectedFailures = 0
    }

    private let base: FileSystem
    /// Guards the rules (their countdowns change on every matching call) and the failure count.
    private let state = Mutex(State())

    public init(base: FileSystem) {
        self.base = base
    }

    /// From now on, `operation` on paths containing `pathContains` (nil = any) fails with
    /// `code` (e.g. `.noSpace` for ENOSPC, `.io` for EIO) after `after` more successful calls,
    /// `count` times (nil = until cleared). For `rename` and `link` either path may match.
    public func inject(
        _ operation: Operation, code: StorageError.Code, errno: Int32? = nil,
        pathContains: String? = nil, after: Int = 0, count: Int? = nil
    ) {
        precondition(after >= 0, "after must not be negative")
        precondition(count.map { $0 > 0 } ?? true, "count must be positive")
        let rule = Rule(
            operation: operation, code: code, errno: errno, pathContains: pathContains, skip: after,
            remaining: count)
        state.withLock { $0.rules.append(rule) }
    }

    /// Removes every rule; the failure count is kept.
    public func clearFaults() {
        state.withLock { $0.rules.removeAll() }
    }

    /// How many calls it failed so far.
    public var injectedFailures: Int {
        state.withLock { $0.injectedFailures }
    }

    /// Throws if a rule says this call fails; otherwise counts it against the rules it matches.
    func check(_ operation: Operation, _ paths: String...) throws {
        let failure = state.withLock { state -> StorageError? in
            var failure: StorageError?
            for index in state.rules.indices where state.rules[index].matches(operation, paths) {
                if state.rules[index].skip > 0 {
                    state.rules[index].skip -= 1
                    continue
                }
                let rule = state.rules[index]
                if let remaining = rule.remaining { state.rules[index].remaining = remaining - 1 }
                failure = StorageError(
                    rule.code, "injected fault: \(operation) \(paths.joined(separator: " -> "))",
                    file: paths.first, errno: rule.errno)
                break
            }
            state.rules.removeAll { $0.remaining == 0 }
            if failure != nil { state.injectedFailures += 1 }
            return failure
        }
        if let failure { throw failure }
    }

    // MARK: FileSystem

    public func createWritable(_ path: String) throws -> WritableFile {
        try check(.create, path)
        return FaultInjectionWritableFile(base: try base.createWritable(path), fileSystem: self)
    }

    public func openAppendable(_ path: String) throws -> WritableFile {
        try check(.open, path)
        return FaultInjectionWritableFile(base: try base.openAppendable(path), fileSystem: self)
    }

    public func openReadable(_ path: String) throws -> ReadableFile {
        try check(.open, path)
        return FaultInjectionReadableFile(base: try base.openReadable(path), fileSystem: self)
    }

    public func fileExists(_ path: String) -> Bool {
        base.fileExists(path)
    }

    public func fileSize(_ path: String) throws -> UInt64 {
        try base.fileSize(path)
    }

    public func listDirectory(_ directory: String) throws -> [String] {
        try check(.list, directory)
        return try base.listDirectory(directory)
    }

    public func createDirectory(_ path: String) throws {
        try check(.createDirectory, path)
        try base.createDirectory(path)
    }

    public func removeFile(_ path: String) throws {
        try check(.remove, path)
        try base.removeFile(path)
    }

    public func rename(_ from: String, to: String) throws {
        try check(.rename, from, to)
        try base.rename(from, to: to)
    }

    public func link(_ from: String, to: String) throws {
        try check(.link, from, to)
        try base.link(from, to: to)
    }

    public func syncDirectory(_ directory: String) throws {
        try check(.syncDirectory, directory)
        try base.syncDirectory(directory)
    }

    public func lockFile(_ path: String) throws -> FileLock {
        try check(.lock, path)
        return try base.lockFile(path)
    }
}

/// Checks the rules before forwarding, so a refused append never reaches the base file.
final class FaultInjectionWritableFile: WritableFile {
    private let base: WritableFile
    private let fileSystem: FaultInjectionFileSystem

    init(base: WritableFile, fileSystem: FaultInjectionFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    var path: String { base.path }
    var size: UInt64 { base.size }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try fileSystem.check(.write, path)
        try base.append(bytes)
    }

    func flush() throws {
        try fileSystem.check(.write, path)
        try base.flush()
    }

    func sync() throws {
        try fileSystem.check(.sync, path)
        try base.sync()
    }

    func syncFlushed() throws {
        try fileSystem.check(.sync, path)
        try base.syncFlushed()
    }

    func close() throws {
        try fileSystem.check(.close, path)
        try base.close()
    }
}

final class FaultInjectionReadableFile: ReadableFile {
    private let base: ReadableFile
    private let fileSystem: FaultInjectionFileSystem

    init(base: ReadableFile, fileSystem: FaultInjectionFileSystem) {
        self.base = base
        self.fileSystem = fileSystem
    }

    var path: String { base.path }
    var size: UInt64 { base.size }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        try fileSystem.check(.read, path)
        return try base.read(at: offset, count: count)
    }

    func close() {
        base.close()
    }
}
