import Glibc
import Synchronization
import Testing

@testable import OsmanthusStorage

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

struct GroupCommitTests {
    /// Writers that stop at different times: each departure leaves the leader's gathering target
    /// too high once; every write must still land and nobody may hang.
    @Test func syncWritersThatStopAtDifferentTimesAllLand() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let threads = 12
        try runConcurrently(threads) { t in
            for i in 0..<(10 + 8 * t) {
                try db.put(bytes("t\(t)-\(i)"), bytes("\(i)"), options: WriteOptions(sync: true))
            }
        }
        var total = 0
        for t in 0..<threads {
            for i in 0..<(10 + 8 * t) {
                #expect(try db.get(bytes("t\(t)-\(i)")) == bytes("\(i)"))
                total += 1
            }
        }
        #expect(db.statistics.value(.keysWritten) == UInt64(total))
        // Each synced group costs one fsync: never more fsyncs than groups or than writes.
        #expect(db.statistics.value(.walSyncs) <= db.statistics.value(.writeGroups))
        #expect(db.statistics.value(.writeGroups) <= UInt64(total))
        try db.close()
    }

    /// A sync leader gathering its group must not keep `close()` waiting past its bound.
    @Test func closeWhileSyncWritersRunFinishesAndKeepsAcknowledgedWrites() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let acknowledged = AcknowledgedKeys()
        try runConcurrently(9) { t in
            if t == 8 {
                // Close once the writers are well under way.
                let deadline = ContinuousClock.now + .seconds(60)
                while acknowledged.count < 200 && ContinuousClock.now < deadline { sched_yield() }
                try db.close()
                return
            }
            var i = 0
            while true {
                let key = bytes("w\(t)-\(i)")
                do {
                    try db.put(key, key, options: WriteOptions(sync: true))
                } catch let e as StorageError where e.code == .closed {
                    return
                }
                acknowledged.add(key)
                i += 1
            }
        }
        let reopened = try DB.open(at: dir.path, options: smallOptions())
        for key in acknowledged.all { #expect(try reopened.get(key) == key) }
        try reopened.close()
    }
}

/// Keys whose writes returned, collected from several threads (the Mutex guards the list).
private final class AcknowledgedKeys: Sendable {
    private let keys = Mutex<[[UInt8]]>([])
    func add(_ key: [UInt8]) { keys.withLock { $0.append(key) } }
    var count: Int { keys.withLock { $0.count } }
    var all: [[UInt8]] { keys.withLock { $0 } }
}
