import Testing

@testable import OsmanthusStorage

struct MemFileSystemTests {
    /// A file system with "/db" created and durable, so each test starts from a synced directory.
    private func makeFileSystem() throws -> MemFileSystem {
        let fs = MemFileSystem()
        try fs.createDirectory("/db")
        try fs.syncDirectory("/")
        return fs
    }

    private func contents(_ fs: FileSystem, _ path: String) throws -> [UInt8] {
        let file = try fs.openReadable(path)
        return try file.read(at: 0, count: Int(file.size))
    }

    @Test func writtenBytesReadBackBeforeAnyCrash() throws {
        let fs = try makeFileSystem()
        let file = try fs.createWritable("/db/000001.log")
        try file.append([1, 2, 3])
        try file.append([4])
        #expect(file.size == 4)
        #expect(try fs.fileSize("/db/000001.log") == 4)
        #expect(try contents(fs, "/db/000001.log") == [1, 2, 3, 4])
    }

    @Test func unsyncedBytesAreLostInCrashClone() throws {
        let fs = try makeFileSystem()
        let file = try fs.createWritable("/db/000001.log")
        try fs.syncDirectory("/db")
        try file.append([1, 2, 3])
        try file.flush()  // reaches the OS, not the disk

        let crashed = fs.crashClone()
        #expect(crashed.fileExists("/db/000001.log"))
        #expect(try crashed.fileSize("/db/000001.log") == 0)
    }

    @Test func syncedBytesSurviveAndLaterOnesDoNot() throws {
        let fs = try makeFileSystem()
        let file = try fs.createWritable("/db/000001.log")
        try fs.syncDirectory("/db")
        try file.append([1, 2, 3])
        try file.sync()
        try file.append([4, 5])

        let crashed = fs.crashClone()
        #expect(try contents(crashed, "/db/000001.log") == [1, 2, 3])
        #expect(try contents(fs, "/db/000001.log") == [1, 2, 3, 4, 5])
    }

    @Test func fileCreatedWithoutDirectorySyncIsGoneAfterCrash() throws {
        let fs = try makeFileSystem()
        let file = try fs.createWritable("/db/000007.sst")
        try file.append([9, 9])
        try file.sync()  // the bytes are durable, but no directory entry points at them

        let crashed = fs.crashClone()
        #expect(!crashed.fileExists("/db/000007.sst"))
        #expect(try crashed.listDirectory("/db") == [])
    }

    @Test func renameIsDurableOnlyAfterSyncDirectory() throws {
        let fs = try makeFileSystem()
        try write(Array("MANIFEST-000001\n".utf8), to: "/db/CURRENT", in: fs)
        try fs.syncDirectory("/db")
        try write(Array("MANIFEST-000002\n".utf8), to: "/db/000002.dbtmp", in: fs)
        try fs.rename("/db/000002.dbtmp", to: "/db/CURRENT")

        let before = fs.crashClone()
        #expect(try contents(before, "/db/CURRENT") == Array("MANIFEST-000001\n".utf8))
        #expect(!before.fileExists("/db/000002.dbtmp"))

        try fs.syncDirectory("/db")
        let after = fs.crashClone()
        #expect(try contents(after, "/db/CURRENT") == Array("MANIFEST-000002\n".utf8))
        #expect(try after.listDirectory("/db") == ["CURRENT"])
    }

    @Test func removalIsDurableOnlyAfterSyncDirectory() throws {
        let fs = try makeFileSystem()
        try write([1, 2], to: "/db/000003.log", in: fs)
        try fs.syncDirectory("/db")
        try fs.removeFile("/db/000003.log")
        #expect(!fs.fileExists("/db/000003.log"))

        #expect(try contents(fs.crashClone(), "/db/000003.log") == [1, 2])
        try fs.syncDirectory("/db")
        #expect(!fs.crashClone().fileExists("/db/000003.log"))
    }

    @Test func linkIsDurableOnlyAfterSyncDirectoryAndSharesTheFile() throws {
        let fs = try makeFileSystem()
        try fs.createDirectory("/db/snap")
        try fs.syncDirectory("/db")
        try write([5, 6], to: "/db/000004.sst", in: fs)
        try fs.syncDirectory("/db")
        try fs.link("/db/000004.sst", to: "/db/snap/000004.sst")
        #expect(!fs.crashClone().fileExists("/db/snap/000004.sst"))

        try fs.syncDirectory("/db/snap")
        let crashed = fs.crashClone()
        #expect(try contents(crashed, "/db/snap/000004.sst") == [5, 6])
        // Still one inode in the clone: appending through one name shows through the other.
        let appender = try crashed.openAppendable("/db/000004.sst")
        try appender.append([7])
        #expect(try contents(crashed, "/db/snap/000004.sst") == [5, 6, 7])
    }

    @Test func directoryNeedsItsParentSyncedToSurvive() throws {
        let fs = MemFileSystem()
        try fs.createDirectory("/data/db")
        try write([1], to: "/data/db/CURRENT", in: fs)
        try fs.syncDirectory("/data/db")
        try fs.syncDirectory("/data")
        #expect(!fs.crashClone().fileExists("/data"))  // "/" never synced

        try fs.syncDirectory("/")
        let crashed = fs.crashClone()
        #expect(try crashed.listDirectory("/") == ["data"])
        #expect(try contents(crashed, "/data/db/CURRENT") == [1])
    }

    @Test func truncationKeepsTheOldSyncedBytesUntilTheNextSync() throws {
        let fs = try makeFileSystem()
        try write([1, 2, 3], to: "/db/f", in: fs)
        try fs.syncDirectory("/db")
        let file = try fs.createWritable("/db/f")
        try file.append([8])
        #expect(try contents(fs, "/db/f") == [8])
        #expect(try contents(fs.crashClone(), "/db/f") == [1, 2, 3])
        try file.sync()
        #expect(try contents(fs.crashClone(), "/db/f") == [8])
    }

    @Test func openHandlesKeepWorkingOnTheOriginalAfterCrashClone() throws {
        let fs = try makeFileSystem()
        let file = try fs.createWritable("/db/000001.log")
        try fs.syncDirectory("/db")
        try file.append([1])
        try file.sync()
        let crashed = fs.crashClone()

        try file.append([2])
        try file.sync()
        #expect(try contents(fs, "/db/000001.log") == [1, 2])
        #expect(try contents(crashed, "/db/000001.log") == [1])
        // And the clone is a separate machine: writing there leaves the original alone.
        try write([9], to: "/db/000001.log", in: crashed)
        #expect(try contents(fs, "/db/000001.log") == [1, 2])
    }

    @Test func removedFileStaysReadableThroughAnOpenHandle() throws {
        let fs = try makeFileSystem()
        try write([4, 5, 6], to: "/db/000009.sst", in: fs)
        let reader = try fs.openReadable("/db/000009.sst")
        try fs.removeFile("/db/000009.sst")
        try fs.syncDirectory("/db")
        #expect(try reader.read(at: 1, count: 2) == [5, 6])
        #expect(!fs.fileExists("/db/000009.sst"))
    }

    @Test func readPastTheEndReturnsShort() throws {
        let fs = try makeFileSystem()
        try write([1, 2, 3, 4, 5], to: "/db/f", in: fs)
        let reader = try fs.openReadable("/db/f")
        #expect(try reader.read(at: 3, count: 10) == [4, 5])
        #expect(try reader.read(at: 5, count: 1) == [])
        #expect(try reader.read(at: 1_000, count: Int.max) == [])
        #expect(try reader.read(at: 2, count: Int.max) == [3, 4, 5])
    }

    @Test func listDirectoryShowsFilesAndSubdirectories() throws {
        let fs = try makeFileSystem()
        try fs.createDirectory("/db/b/c")
        try write([], to: "/db/a.log", in: fs)
        try write([], to: "/db/b/inner", in: fs)
        #expect(try fs.listDirectory("/db") == ["a.log", "b"])
        #expect(try fs.listDirectory("/db/b") == ["c", "inner"])
        #expect(try fs.listDirectory("/") == ["db"])
    }

    @Test func pathsAreNormalizedAndRelativeOnesLiveUnderDot() throws {
        let fs = MemFileSystem()
        try fs.createDirectory("db/")
        try write([1], to: "./db//x", in: fs)
        #expect(fs.fileExists("db/x"))
        #expect(fs.fileExists("db/sub/../x"))
        #expect(try fs.listDirectory(".") == ["db"])
        #expect(!fs.fileExists("/db/x"))
        try fs.syncDirectory("db")
        try fs.syncDirectory("")
        #expect(try contents(fs.crashClone(), "db/x") == [1])
    }

    @Test func lockFileTwiceIsBusyUntilUnlocked() throws {
        let fs = try makeFileSystem()
        let lock = try fs.lockFile("/db/LOCK")
        #expect(fs.fileExists("/db/LOCK"))
        let error = #expect(throws: StorageError.self) { try fs.lockFile("/db/LOCK") }
        #expect(error?.code == .busy)
        // A crash releases every lock.
        try fs.syncDirectory("/db")
        let relocked = try fs.crashClone().lockFile("/db/LOCK")
        relocked.unlock()

        lock.unlock()
        let again = try fs.lockFile("/db/LOCK")
        lock.unlock()  // a stale unlock must not release the new holder
        #expect(throws: StorageError.self) { try fs.lockFile("/db/LOCK") }
        again.unlock()
    }

    @Test func missingFilesAreNotFound() throws {
        let fs = try makeFileSystem()
        let calls: [(String, () throws -> Void)] = [
            ("openReadable", { _ = try fs.openReadable("/db/missing") }),
            ("openAppendable", { _ = try fs.openAppendable("/db/missing") }),
            ("createWritable in missing dir", { _ = try fs.createWritable("/nowhere/f") }),
            ("fileSize", { _ = try fs.fileSize("/db/missing") }),
            ("removeFile", { try fs.removeFile("/db/missing") }),
            ("rename", { try fs.rename("/db/missing", to: "/db/other") }),
            ("link", { try fs.link("/db/missing", to: "/db/other") }),
            ("listDirectory", { _ = try fs.listDirectory("/nowhere") }),
            ("syncDirectory", { try fs.syncDirectory("/nowhere") }),
            ("lockFile in missing dir", { _ = try fs.lockFile("/nowhere/LOCK") }),
        ]
        for (name, call) in calls {
            let error = #expect(throws: StorageError.self, "\(name)") { try call() }
            #expect(error?.code == .notFound, "\(name)")
        }
        #expect(!fs.fileExists("/db/other"))
    }

    @Test func directoriesAndFilesDoNotStandInForEachOther() throws {
        let fs = try makeFileSystem()
        try write([1], to: "/db/f", in: fs)
        #expect(throws: StorageError.self) { try fs.createDirectory("/db/f") }
        #expect(throws: StorageError.self) { try fs.createWritable("/db") }
        #expect(throws: StorageError.self) { try fs.openReadable("/db") }
        #expect(throws: StorageError.self) { try fs.rename("/db/f", to: "/db") }
        #expect(throws: StorageError.self) { try fs.link("/db/f", to: "/db") }
        #expect(throws: StorageError.self) { try fs.createWritable("/db/f/below") }
    }

    @Test func renameOntoItselfKeepsTheFile() throws {
        let fs = try makeFileSystem()
        try write([1, 2], to: "/db/f", in: fs)
        try fs.rename("/db/f", to: "/db/f")
        #expect(try contents(fs, "/db/f") == [1, 2])
    }

    @Test func concurrentWritersOnDifferentFilesDoNotInterfere() async throws {
        let fs = try makeFileSystem()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    let file = try fs.createWritable("/db/\(writer).log")
                    for round in 0..<200 {
                        try file.append([UInt8(writer), UInt8(truncatingIfNeeded: round)])
                        if round % 10 == 0 { try file.sync() }
                    }
                    try file.sync()
                    try file.close()
                }
            }
            try await group.waitForAll()
        }
        try fs.syncDirectory("/db")
        let crashed = fs.crashClone()
        for writer in 0..<8 {
            let expected = (0..<200).flatMap { [UInt8(writer), UInt8(truncatingIfNeeded: $0)] }
            #expect(try contents(crashed, "/db/\(writer).log") == expected)
        }
    }

    @Test func removedInodesAreFreedOnceNothingRefersToThem() throws {
        let fs = try makeFileSystem()
        try write([1], to: "/db/a", in: fs)
        try fs.syncDirectory("/db")
        try fs.removeFile("/db/a")
        // The synced directory entry still keeps it for a crash.
        #expect(fs.state.withLock { $0.inodes.count } == 1)
        try fs.syncDirectory("/db")
        #expect(fs.state.withLock { $0.inodes.count } == 0)
    }

    private func write(_ bytes: [UInt8], to path: String, in fs: FileSystem) throws {
        let file = try fs.createWritable(path)
        try file.append(bytes)
        try file.sync()
        try file.close()
    }
}
