import Synchronization

@testable import OsmanthusStorage

/// A file system over another that keeps each writable file's appends in a process-level buffer
/// until `flush`, as `PosixFileSystem` does, so a test over a `MemFileSystem` (which has no such
/// buffer) sees what a crash loses when the engine forgets to flush before an fsync:
/// `syncFlushed` makes durable only what was flushed.
final class BufferingFileSystem: ForwardingFileSystem {
    let base: MemFileSystem
    var forwarded: any FileSystem { base }

    init(base: MemFileSystem) { self.base = base }

    func createWritable(_ path: String) throws -> WritableFile { BufferedFile(try base.createWritable(path)) }
    func openAppendable(_ path: String) throws -> WritableFile { BufferedFile(try base.openAppendable(path)) }

    /// One owner appends and flushes (the engine's contract for a `WritableFile`); `syncFlushed`
    /// may run on another thread meanwhile, and touches only the base file.
    private final class BufferedFile: WritableFile {
        private let file: WritableFile
        private var buffer: [UInt8] = []

        init(_ file: WritableFile) { self.file = file }

        var path: String { file.path }
        var size: UInt64 { file.size + UInt64(buffer.count) }
        func append(_ bytes: UnsafeRawBufferPointer) throws { buffer.append(contentsOf: bytes) }
        func flush() throws {
            guard !buffer.isEmpty else { return }
            defer { buffer.removeAll(keepingCapacity: true) }
            try file.append(buffer)
        }
        func sync() throws {
            try flush()
            try file.sync()
        }
        func syncFlushed() throws { try file.syncFlushed() }
        func close() throws {
            try flush()
            try file.close()
        }
    }
}
