import Glibc
import Testing

@testable import OsmanthusStorage

struct PosixFileSystemTests {
    let fs = PosixFileSystem()

    @Test func createAppendSyncAndReadBack() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "000001.log")
        let file = try fs.createWritable(path)
        try file.append(Array("hello, ".utf8))
        try file.append(Array("world".utf8))
        #expect(file.size == 12)
        try file.sync()
        try file.close()

        let reader = try fs.openReadable(path)
        #expect(reader.size == 12)
        #expect(try reader.read(at: 0, count: 12) == Array("hello, world".utf8))
        #expect(try reader.read(at: 7, count: 5) == Array("world".utf8))
    }

    @Test func readIntoABufferFillsItAndStopsShortAtTheEnd() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "f")
        try write(Array("0123456789".utf8), to: path)
        let reader = try fs.openReadable(path)
        var buffer = [UInt8](repeating: 0, count: 4)
        let n = try buffer.withUnsafeMutableBytes { try reader.read(at: 3, into: $0) }
        #expect(n == 4)
        #expect(buffer == Array("3456".utf8))
        let tail = try buffer.withUnsafeMutableBytes { try reader.read(at: 8, into: $0) }
        #expect(tail == 2)
        #expect(Array(buffer[..<2]) == Array("89".utf8))
        #expect(throws: StorageError.self) {
            try buffer.withUnsafeMutableBytes { try reader.readExactly(at: 8, into: $0) }
        }
    }

    @Test func createWritableTruncatesAnExistingFile() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "f")
        try write([1, 2, 3, 4], to: path)
        let file = try fs.createWritable(path)
        try file.append([9])
        try file.close()
        #expect(try fs.openReadable(path).read(at: 0, count: 10) == [9])
    }

    @Test func openAppendableAppendsAtTheEnd() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "MANIFEST-000001")
        try write([1, 2, 3], to: path)
        let file = try fs.openAppendable(path)
        #expect(file.size == 3)
        try file.append([4, 5])
        #expect(file.size == 5)
        try file.close()
        #expect(try fs.openReadable(path).read(at: 0, count: 10) == [1, 2, 3, 4, 5])
    }

    @Test func bytesReachTheFileOnFlushAndClose() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "f")
        let file = try fs.createWritable(path)
        try file.append([1, 2, 3])
        try file.flush()
        #expect(try fs.fileSize(path) == 3)
        try file.append([4])
        try file.close()
        #expect(try fs.fileSize(path) == 4)
    }

    @Test func appendsLargerThanTheBufferArriveInOrder() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "big")
        let small = [UInt8](repeating: 7, count: 1000)
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        let file = try fs.createWritable(path)
        try file.append(small)
        try file.append(large)
        try file.append(small)
        #expect(file.size == UInt64(202_000))
        try file.close()
        let reader = try fs.openReadable(path)
        #expect(try reader.read(at: 0, count: 202_000) == small + large + small)
    }

    /// Appends of random sizes (empty, small, up to past the 64 KiB buffer, and those that fill
    /// it exactly) with flushes at random points: the file holds exactly the bytes appended, in
    /// order, and `size` counts them all along.
    @Test(arguments: [UInt64(5), 17, 0xF11E])
    func randomAppendsAndFlushesArriveInOrder(seed: UInt64) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "random")
        var rng = SplitMix64(seed: seed)
        let file = try fs.createWritable(path)
        var expected: [UInt8] = []
        for _ in 0..<300 {
            let count: Int
            switch rng.next() % 8 {
            case 0: count = 0
            case 1: count = 65_536 - (expected.count % 65_536)
            case 2: count = 60_000 + Int(rng.next() % 20_000)
            default: count = Int(rng.next() % 700)
            }
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            try file.append(bytes)
            expected += bytes
            #expect(file.size == UInt64(expected.count))
            if rng.next() % 5 == 0 { try file.flush() }
        }
        try file.close()
        let reader = try fs.openReadable(path)
        #expect(try reader.read(at: 0, count: expected.count + 1) == expected, "seed \(seed)")
    }

    @Test func renameReplacesTheTarget() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let current = joinPath(dir.path, "CURRENT")
        let temp = joinPath(dir.path, "000002.dbtmp")
        try write(Array("MANIFEST-000001\n".utf8), to: current)
        try write(Array("MANIFEST-000002\n".utf8), to: temp)
        try fs.rename(temp, to: current)
        try fs.syncDirectory(dir.path)
        #expect(!fs.fileExists(temp))
        #expect(try fs.openReadable(current).read(at: 0, count: 100) == Array("MANIFEST-000002\n".utf8))
    }

    @Test func linkSharesTheContentsAndOutlivesTheOriginal() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        try fs.createDirectory(joinPath(dir.path, "snapshot"))
        let original = joinPath(dir.path, "000005.sst")
        let linked = joinPath(dir.path, "snapshot/000005.sst")
        try write([1, 2, 3], to: original)
        try fs.link(original, to: linked)
        try fs.removeFile(original)
        #expect(!fs.fileExists(original))
        #expect(try fs.openReadable(linked).read(at: 0, count: 3) == [1, 2, 3])
    }

    @Test func linkOntoAnExistingFileFails() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let a = joinPath(dir.path, "a")
        let b = joinPath(dir.path, "b")
        try write([1], to: a)
        try write([2], to: b)
        #expect(throws: StorageError.self) { try fs.link(a, to: b) }
    }

    @Test func listDirectoryNamesEntriesSortedWithoutDots() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        try write([], to: joinPath(dir.path, "b.sst"))
        try write([], to: joinPath(dir.path, "a.log"))
        try fs.createDirectory(joinPath(dir.path, "sub"))
        #expect(try fs.listDirectory(dir.path) == ["a.log", "b.sst", "sub"])
        #expect(try fs.listDirectory(joinPath(dir.path, "sub")) == [])
    }

    @Test func createDirectoryMakesMissingParents() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let nested = joinPath(dir.path, "a/b//c/")
        try fs.createDirectory(nested)
        try fs.createDirectory(nested)  // already there: fine
        try write([1], to: joinPath(dir.path, "a/b/c/f"))
        #expect(try fs.listDirectory(joinPath(dir.path, "a/b")) == ["c"])
        #expect(try fs.listDirectory(joinPath(dir.path, "a/b/c")) == ["f"])
    }

    @Test func createDirectoryAcceptsRelativePaths() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        // The same place, spelled relative to the working directory (no chdir: tests run in parallel).
        var buffer = [CChar](repeating: 0, count: 4096)
        let cwd = try #require(getcwd(&buffer, buffer.count).map { String(cString: $0) })
        let ups = cwd.split(separator: "/").map { _ in ".." }.joined(separator: "/")
        let relative = ups + dir.path + "/x/y"
        try fs.createDirectory(relative)
        #expect(try fs.listDirectory(joinPath(dir.path, "x")) == ["y"])
    }

    @Test func createDirectoryOverAFileFails() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "f")
        try write([1], to: path)
        #expect(throws: StorageError.self) { try fs.createDirectory(path) }
        #expect(throws: StorageError.self) { try fs.createDirectory(joinPath(path, "below")) }
    }

    @Test func fileSizeAndExistence() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "f")
        #expect(!fs.fileExists(path))
        try write([UInt8](repeating: 0, count: 4321), to: path)
        #expect(fs.fileExists(path))
        #expect(try fs.fileSize(path) == 4321)
    }

    @Test func readPastTheEndReturnsShort() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "f")
        try write([1, 2, 3, 4, 5], to: path)
        let reader = try fs.openReadable(path)
        #expect(try reader.read(at: 3, count: 10) == [4, 5])
        #expect(try reader.read(at: 5, count: 10) == [])
        #expect(try reader.read(at: 100, count: 10) == [])
        #expect(try reader.read(at: 0, count: 0) == [])
        let error = #expect(throws: StorageError.self) { try reader.readExactly(at: 3, count: 3) }
        #expect(error?.code == .corruption)
        #expect(error?.offset == 3)
    }

    @Test func lockFileTwiceIsBusyUntilUnlocked() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "LOCK")
        let lock = try fs.lockFile(path)
        let error = #expect(throws: StorageError.self) { try fs.lockFile(path) }
        #expect(error?.code == .busy)
        lock.unlock()
        lock.unlock()  // a second unlock is harmless
        let again = try fs.lockFile(path)
        again.unlock()
    }

    @Test func missingFilesAreNotFound() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let missing = joinPath(dir.path, "missing")
        let other = joinPath(dir.path, "other")
        let calls: [(String, () throws -> Void)] = [
            ("openReadable", { _ = try fs.openReadable(missing) }),
            ("openAppendable", { _ = try fs.openAppendable(missing) }),
            ("createWritable in missing dir", { _ = try fs.createWritable(joinPath(missing, "f")) }),
            ("fileSize", { _ = try fs.fileSize(missing) }),
            ("removeFile", { try fs.removeFile(missing) }),
            ("rename", { try fs.rename(missing, to: other) }),
            ("link", { try fs.link(missing, to: other) }),
            ("listDirectory", { _ = try fs.listDirectory(missing) }),
            ("syncDirectory", { try fs.syncDirectory(missing) }),
            ("lockFile in missing dir", { _ = try fs.lockFile(joinPath(missing, "LOCK")) }),
        ]
        for (name, call) in calls {
            let error = #expect(throws: StorageError.self, "\(name)") { try call() }
            #expect(error?.code == .notFound, "\(name)")
            #expect(error?.file != nil, "\(name)")
        }
        #expect(!fs.fileExists(other))
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        let file = try fs.createWritable(path)
        try file.append(bytes)
        try file.sync()
        try file.close()
    }
}
