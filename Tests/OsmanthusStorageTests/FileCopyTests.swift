import Testing

@testable import OsmanthusStorage

/// `FileCopy.copyInKernel` (SPEC.md §14.2): the bytes arrive whole, each chunk is counted
/// against the pacer, and seams without file descriptors get a user-space copy.
struct FileCopyTests {
    final class FakeClock {
        var time = 0.0
        var moved: [Double] = []
    }

    /// Two 4 MiB chunks plus a tail, so the copy loops more than once and ends on a short
    /// chunk: a random 64 KiB block repeated, each copy marked with its index.
    static func contents() -> [UInt8] {
        var rng: UInt64 = 5
        let block: [UInt8] = (0..<65_536).map { _ in
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: rng >> 33)
        }
        var out: [UInt8] = []
        out.reserveCapacity(2 * FileCopy.chunkSize + 12_345)
        var i = 0
        while out.count < 2 * FileCopy.chunkSize {
            out += block
            out[out.count - 1] = UInt8(truncatingIfNeeded: i)
            i += 1
        }
        out += block.prefix(12_345)
        return out
    }

    func write(_ fs: any FileSystem, _ path: String, _ bytes: [UInt8]) throws {
        let f = try fs.createWritable(path)
        try f.append(bytes)
        try f.sync()
        try f.close()
    }

    @Test(arguments: [false, true]) func kernelCopyIsByteIdenticalAndPaced(inMemory: Bool) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs: any FileSystem = inMemory ? MemFileSystem() : PosixFileSystem()
        if inMemory { try fs.createDirectory(dir.path) }
        let bytes = Self.contents()
        try write(fs, dir.path + "/source", bytes)
        try write(fs, dir.path + "/target", [1, 2, 3])  // replaced, not appended to
        let clock = FakeClock()
        let pacer = try #require(
            CopyPacer(bytesPerSecond: 1 << 40, now: { clock.time }, sleep: { clock.time += $0 }))
        let copied = try FileCopy.copyInKernel(dir.path + "/source", to: dir.path + "/target", fileSystem: fs, pacer: pacer)
        #expect(copied == UInt64(bytes.count))
        let target = try fs.openReadable(dir.path + "/target")
        defer { target.close() }
        #expect(try target.read(at: 0, count: bytes.count + 1) == bytes)
        // Every byte was counted: at 2^40 B/s the pacer's due time is bytes / rate.
        #expect(abs(clock.time - Double(bytes.count) / Double(1 << 40)) < 1e-12)
    }

    @Test func missingSourceIsNotFoundAndLeavesNoTarget() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        #expect {
            try FileCopy.copyInKernel(dir.path + "/absent", to: dir.path + "/target", fileSystem: fs)
        } throws: { e in
            (e as? StorageError)?.code == .notFound
        }
        #expect(!fs.fileExists(dir.path + "/target"))
    }

    /// Records the reads and read-ahead hints a copy makes of the file it wraps.
    final class HintRecordingFile: ReadableFile, @unchecked Sendable {
        enum Event: Equatable { case hint(UInt64, Int), read(UInt64, Int) }
        let base: ReadableFile
        var events: [Event] = []
        init(_ base: ReadableFile) { self.base = base }
        var path: String { base.path }
        var size: UInt64 { base.size }
        func read(at offset: UInt64, count: Int) throws -> [UInt8] {
            events.append(.read(offset, count))
            return try base.read(at: offset, count: count)
        }
        func willRead(at offset: UInt64, count: Int) { events.append(.hint(offset, count)) }
        func close() { base.close() }
    }

    /// A copy longer than the read-ahead window asks for every byte once, before reading it,
    /// and still copies the bytes whole with the CRC-32C of what it read.
    @Test func copyAsksAheadForEveryByteBeforeReadingIt() throws {
        let fs = MemFileSystem()
        try fs.createDirectory("/d")
        let total = FileCopy.readAhead + FileCopy.chunkSize + 777
        var bytes = [UInt8](repeating: 0, count: total)
        var rng: UInt64 = 11
        for i in stride(from: 0, to: total, by: 4096) {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[i] = UInt8(truncatingIfNeeded: rng >> 33)
        }
        try write(fs, "/d/source", bytes)
        let source = HintRecordingFile(try fs.openReadable("/d/source"))
        let (size, crc) = try FileCopy.copy(source, to: "/d/target", fileSystem: fs)
        #expect(size == UInt64(total))
        #expect(crc == CRC32C.checksum(bytes))
        #expect(try fs.openReadable("/d/target").read(at: 0, count: total + 1) == bytes)

        var hinted: [(UInt64, Int)] = []
        var readEnd: UInt64 = 0
        for event in source.events {
            switch event {
            case .hint(let offset, let count): hinted.append((offset, count))
            case .read(let offset, let count):
                #expect(offset == readEnd)
                // Everything this read asks for was hinted before it.
                let hintedEnd = hinted.last.map { $0.0 + UInt64($0.1) } ?? 0
                #expect(hintedEnd >= min(offset + UInt64(count), UInt64(total)))
                readEnd = offset + UInt64(count)
            }
        }
        // The hints tile the file: contiguous, no overlap, no byte past the end.
        var next: UInt64 = 0
        for (offset, count) in hinted {
            #expect(offset == next)
            next = offset + UInt64(count)
        }
        #expect(next == UInt64(total))
    }
}
