import Synchronization

@testable import OsmanthusStorage

/// A file held in memory: written through `WritableFile`, read back through `ReadableFile`, with
/// a read counter so tests can tell whether a lookup touched the disk.
/// `@unchecked Sendable`: tests write `bytes` only before sharing the file with readers; the read
/// counter is atomic.
final class ByteArrayFile: WritableFile, ReadableFile, @unchecked Sendable {
    let path: String
    var bytes: [UInt8]
    private let reads = Atomic<Int>(0)
    var readCount: Int { reads.load(ordering: .relaxed) }

    init(path: String = "memory.sst", bytes: [UInt8] = []) {
        self.path = path
        self.bytes = bytes
    }

    var size: UInt64 { UInt64(bytes.count) }

    func append(_ data: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: data) }
    func flush() throws {}
    func sync() throws {}
    func syncFlushed() throws {}
    func close() {}

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        reads.add(1, ordering: .relaxed)
        guard offset < UInt64(bytes.count) else { return [] }
        let start = Int(offset)
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}
