@testable import OsmanthusStorage

/// A test file system that wraps another: it changes how files are written (`createWritable`,
/// `openAppendable`) and passes every other call to `forwarded` unchanged.
protocol ForwardingFileSystem: FileSystem {
    var forwarded: any FileSystem { get }
}

extension ForwardingFileSystem {
    func openReadable(_ path: String) throws -> ReadableFile { try forwarded.openReadable(path) }
    func fileExists(_ path: String) -> Bool { forwarded.fileExists(path) }
    func fileSize(_ path: String) throws -> UInt64 { try forwarded.fileSize(path) }
    func listDirectory(_ directory: String) throws -> [String] { try forwarded.listDirectory(directory) }
    func createDirectory(_ path: String) throws { try forwarded.createDirectory(path) }
    func removeFile(_ path: String) throws { try forwarded.removeFile(path) }
    func rename(_ from: String, to: String) throws { try forwarded.rename(from, to: to) }
    func link(_ from: String, to: String) throws { try forwarded.link(from, to: to) }
    func syncDirectory(_ directory: String) throws { try forwarded.syncDirectory(directory) }
    func lockFile(_ path: String) throws -> FileLock { try forwarded.lockFile(path) }
}
