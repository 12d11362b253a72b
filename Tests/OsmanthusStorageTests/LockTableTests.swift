import Glibc
import Synchronization
import Testing

@testable import OsmanthusStorage

struct LockTableTests {
    /// A child being spawned holds copies of our descriptors until it execs, so a lock released
    /// a moment ago can look held. Relocking must still succeed while children are spawned.
    @Test func lockIsReacquiredWhileAnotherThreadSpawnsChildren() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let path = dir.path + "/LOCK"
        let done = StopFlag()
        let spawner = BackgroundThread(name: "spawner") {
            while !done.isSet {
                var pid = pid_t()
                let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
                defer { for a in argv { free(a) } }
                if posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0 {
                    var status: Int32 = 0
                    waitpid(pid, &status, 0)
                }
            }
        }
        defer {
            done.set()
            spawner.join()
        }
        for _ in 0..<1000 {
            let lock = try fs.lockFile(path)
            lock.unlock()
        }
    }

    @Test func secondLockInTheSameProcessIsBusyAtOnceAndFreedByUnlock() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let lock = try fs.lockFile(dir.path + "/LOCK")
        #expect { _ = try fs.lockFile(dir.path + "/./LOCK") } throws: { ($0 as? StorageError)?.code == .busy }
        lock.unlock()
        try fs.lockFile(dir.path + "/LOCK").unlock()
    }
}

/// Tells the spawner thread to stop.
private final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
