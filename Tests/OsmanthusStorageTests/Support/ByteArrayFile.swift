@testable import OsmanthusStorage

/// A file held in memory: written through `WritableFile`, read back through `ReadableFile`, with
/// a read counter so tests can tell whether a lookup touched the disk. Tests only: not locked.
final class ByteArrayFile: WritableFile, ReadableFile, @unchecked Sendable {
    let path: String
    var bytes: [UInt8]
    private(set) var readCount = 0

    init(path: String = "memory.sst", bytes: [UInt8] = []) {
        self.path = path
        self.bytes = bytes
    }

    var size: UInt64 { UInt64(bytes.count) }

    func append(_ data: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: data) }
    func flush() throws {}
    func sync() throws {}
    func close() {}

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        readCount += 1
        guard offset < UInt64(bytes.count) else { return [] }
        let start = Int(offset)
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}
