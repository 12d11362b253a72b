import Glibc
import Testing

@testable import OsmanthusStorage

struct FaultInjectionFileSystemTests {
    typealias Operation = FaultInjectionFileSystem.Operation

    /// A base holding "/db/f" (bytes 1…4) and "/db/g", wrapped.
    private func makeFileSystems() throws -> (MemFileSystem, FaultInjectionFileSystem) {
        let base = MemFileSystem()
        try base.createDirectory("/db")
        for name in ["f", "g"] {
            let file = try base.createWritable("/db/\(name)")
            try file.append([1, 2, 3, 4])
            try file.close()
        }
        return (base, FaultInjectionFileSystem(base: base))
    }

    /// One call of `operation` through `fs`, on paths under "/db". Files the call needs are opened
    /// now, before any rule is set, so only `operation` itself meets the rules.
    private func prepare(
        _ operation: Operation, on fs: FaultInjectionFileSystem
    ) throws -> () throws -> Void {
        switch operation {
        case .create: return { _ = try fs.createWritable("/db/new") }
        case .open: return { _ = try fs.openReadable("/db/f") }
        case .read:
            let file = try fs.openReadable("/db/f")
            return { _ = try file.read(at: 0, count: 4) }
        case .write:
            let file = try fs.openAppendable("/db/f")
            return { try file.append([5]) }
        case .sync:
            let file = try fs.openAppendable("/db/f")
            return { try file.sync() }
        case .close:
            let file = try fs.openAppendable("/db/f")
            return { try file.close() }
        case .rename: return { try fs.rename("/db/f", to: "/db/f2") }
        case .remove: return { try fs.removeFile("/db/f") }
        case .link: return { try fs.link("/db/f", to: "/db/f3") }
        case .syncDirectory: return { try fs.syncDirectory("/db") }
        case .list: return { _ = try fs.listDirectory("/db") }
        case .lock: return { try fs.lockFile("/db/LOCK").unlock() }
        case .createDirectory: return { try fs.createDirectory("/db/sub") }
        }
    }

    static let allOperations: [Operation] = [
        .create, .open, .read, .write, .sync, .close, .rename, .remove, .link, .syncDirectory, .list,
        .lock, .createDirectory,
    ]

    @Test(arguments: allOperations)
    func eachOperationFailsAsConfigured(_ operation: Operation) throws {
        let (_, fs) = try makeFileSystems()
        let call = try prepare(operation, on: fs)
        fs.inject(operation, code: .io, errno: EIO)
        let error = #expect(throws: StorageError.self) { try call() }
        #expect(error?.code == .io)
        #expect(error?.errno == EIO)
        #expect(fs.injectedFailures == 1)

        fs.clearFaults()
        try call()
        #expect(fs.injectedFailures == 1)
    }

    @Test(arguments: allOperations)
    func otherOperationsAreNotAffected(_ operation: Operation) throws {
        for other in Self.allOperations where other != operation {
            let (_, fs) = try makeFileSystems()
            let call = try prepare(operation, on: fs)
            fs.inject(other, code: .io)
            try call()
            #expect(fs.injectedFailures == 0, "\(other) fired during \(operation)")
        }
    }

    @Test func afterLetsThatManyCallsThroughFirst() throws {
        let (_, fs) = try makeFileSystems()
        let file = try fs.openAppendable("/db/f")
        fs.inject(.write, code: .io, after: 2, count: 1)
        try file.append([5])
        try file.append([6])
        #expect(throws: StorageError.self) { try file.append([7]) }
        try file.append([8])
        #expect(fs.injectedFailures == 1)
    }

    @Test func countLimitsHowOftenItFails() throws {
        let (_, fs) = try makeFileSystems()
        fs.inject(.syncDirectory, code: .io, count: 2)
        #expect(throws: StorageError.self) { try fs.syncDirectory("/db") }
        #expect(throws: StorageError.self) { try fs.syncDirectory("/db") }
        try fs.syncDirectory("/db")
        #expect(fs.injectedFailures == 2)
    }

    @Test func withoutCountItFailsUntilCleared() throws {
        let (_, fs) = try makeFileSystems()
        fs.inject(.open, code: .io)
        for _ in 0..<5 {
            #expect(throws: StorageError.self) { try fs.openReadable("/db/f") }
        }
        #expect(fs.injectedFailures == 5)
        fs.clearFaults()
        _ = try fs.openReadable("/db/f")
        #expect(fs.injectedFailures == 5)
    }

    @Test func enospcSurfacesAsNoSpace() throws {
        let (_, fs) = try makeFileSystems()
        let file = try fs.createWritable("/db/000001.log")
        fs.inject(.write, code: .noSpace, errno: ENOSPC)
        let error = #expect(throws: StorageError.self) { try file.append([1, 2, 3]) }
        #expect(error?.code == .noSpace)
        #expect(error?.errno == ENOSPC)
        #expect(error?.file == "/db/000001.log")
    }

    @Test func failedWriteDoesNotReachTheBaseFile() throws {
        let (base, fs) = try makeFileSystems()
        let file = try fs.openAppendable("/db/f")
        fs.inject(.write, code: .noSpace, count: 1)
        #expect(throws: StorageError.self) { try file.append([9, 9, 9]) }
        #expect(file.size == 4)
        #expect(try base.fileSize("/db/f") == 4)
        try file.append([5])
        #expect(try base.openReadable("/db/f").read(at: 0, count: 10) == [1, 2, 3, 4, 5])
    }

    @Test func pathContainsPicksTheFiles() throws {
        let (_, fs) = try makeFileSystems()
        fs.inject(.write, code: .io, pathContains: ".log")
        let table = try fs.createWritable("/db/000002.sst")
        try table.append([1])
        let log = try fs.createWritable("/db/000003.log")
        #expect(throws: StorageError.self) { try log.append([1]) }
        #expect(throws: StorageError.self) { try log.flush() }
        #expect(fs.injectedFailures == 2)
    }

    @Test func renameAndLinkMatchEitherPath() throws {
        let (_, fs) = try makeFileSystems()
        fs.inject(.rename, code: .io, pathContains: "CURRENT")
        fs.inject(.link, code: .io, pathContains: "snap")
        #expect(throws: StorageError.self) { try fs.rename("/db/f", to: "/db/CURRENT") }
        #expect(throws: StorageError.self) { try fs.link("/db/f", to: "/db/snap-f") }
        try fs.rename("/db/f", to: "/db/f2")
        try fs.link("/db/f2", to: "/db/f3")
        #expect(fs.injectedFailures == 2)
    }

    @Test func rulesReachFilesOpenedBeforeTheyWereSet() throws {
        let (_, fs) = try makeFileSystems()
        let reader = try fs.openReadable("/db/f")
        let writer = try fs.openAppendable("/db/g")
        fs.inject(.read, code: .io)
        fs.inject(.sync, code: .io)
        #expect(throws: StorageError.self) { try reader.read(at: 0, count: 1) }
        #expect(throws: StorageError.self) { try writer.sync() }
        #expect(fs.injectedFailures == 2)
    }

    @Test func failedSyncLeavesTheDataUndurable() throws {
        let (base, fs) = try makeFileSystems()
        try base.syncDirectory("/db")
        try base.syncDirectory("/")
        let file = try fs.createWritable("/db/000001.log")
        try fs.syncDirectory("/db")
        try file.append([1, 2])
        fs.inject(.sync, code: .io, count: 1)
        #expect(throws: StorageError.self) { try file.sync() }
        #expect(try base.crashClone().fileSize("/db/000001.log") == 0)
        try file.sync()
        #expect(try base.crashClone().fileSize("/db/000001.log") == 2)
    }

    @Test func overPosixTheErrorCarriesThePath() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = FaultInjectionFileSystem(base: PosixFileSystem())
        fs.inject(.create, code: .noSpace, errno: ENOSPC, pathContains: ".sst")
        let path = joinPath(dir.path, "000010.sst")
        let error = #expect(throws: StorageError.self) { try fs.createWritable(path) }
        #expect(error?.code == .noSpace)
        #expect(error?.file == path)
        #expect(!fs.fileExists(path))
    }
}
