import Glibc
import Synchronization
import Testing

@testable import OsmanthusStorage

/// The write path's reuse of its own objects (pooled writers, the leader's reusable group
/// record) must never let one write's bytes, sync flag or error leak into another's.
struct WritePathTests {
    static func seeds() -> [UInt64] {
        if let s = getenvString("OSMANTHUS_SEED"), let seed = UInt64(s) { return [seed] }
        return [7, 11, 0xBADC0DE]
    }

    /// Threads mix single puts, deletes and multi-record batches (some synced, some with
    /// stamped keys) over their own key ranges, so groups of every shape form; each thread
    /// keeps its own model. Afterwards, and after a reopen, the database equals the models.
    @Test(arguments: seeds())
    func concurrentPutsDeletesAndBatchesMatchTheirModels(seed: UInt64) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let threads = 6
        final class Results: Sendable {
            let models: Mutex<[[[UInt8]: [UInt8]]]>
            let stamped: Mutex<[Int]>
            init(_ threads: Int) {
                models = Mutex(Array(repeating: [:], count: threads))
                stamped = Mutex(Array(repeating: 0, count: threads))
            }
        }
        let results = Results(threads)
        try runConcurrently(threads) { t in
            var rng = SplitMix64(seed: seed &+ UInt64(t) &* 0x9E37_79B9)
            var model: [[UInt8]: [UInt8]] = [:]
            var stamped = 0
            func key() -> [UInt8] { Array("t\(t)-k\(rng.next() % 300)".utf8) }
            func value() -> [UInt8] {
                (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            for _ in 0..<400 {
                let sync = rng.next() % 8 == 0
                switch rng.next() % 10 {
                case 0..<5:
                    let (k, v) = (key(), value())
                    try db.put(k, v, options: WriteOptions(sync: sync))
                    model[k] = v
                case 5..<7:
                    let k = key()
                    try db.delete(k, options: WriteOptions(sync: sync))
                    model[k] = nil
                default:
                    var batch = WriteBatch()
                    var pending: [([UInt8], [UInt8]?)] = []
                    for _ in 0..<Int(1 + rng.next() % 12) {
                        let k = key()
                        if rng.next() % 4 == 0 {
                            batch.delete(k)
                            pending.append((k, nil))
                        } else {
                            let v = value()
                            batch.put(k, v)
                            pending.append((k, v))
                        }
                    }
                    if rng.next() % 3 == 0 {
                        batch.putStamped(Array("s\(t)-".utf8), Array("stamp".utf8))
                        stamped += 1
                    }
                    try db.write(batch, options: WriteOptions(sync: sync))
                    for (k, v) in pending { model[k] = v }
                }
            }
            let finished = model
            results.models.withLock { $0[t] = finished }
            results.stamped.withLock { $0[t] = stamped }
        }
        let expected = results.models.withLock { $0 }
        let stamps = results.stamped.withLock { $0 }
        func check(_ db: DB, _ when: String) throws {
            for t in 0..<threads {
                for i in 0..<300 {
                    let k = Array("t\(t)-k\(i)".utf8)
                    #expect(try db.get(k) == expected[t][k], "seed \(seed) \(when) key \(String(decoding: k, as: UTF8.self))")
                }
                // Each stamped key is its prefix and a distinct commit sequence.
                let prefix = Array("s\(t)-".utf8)
                let it = db.makeIterator()
                it.seek(prefix)
                var found = 0
                while it.isValid, it.key.starts(with: prefix) {
                    #expect(it.key.count == prefix.count + 8, "seed \(seed) \(when)")
                    #expect(it.value == Array("stamp".utf8), "seed \(seed) \(when)")
                    found += 1
                    it.next()
                }
                #expect(found == stamps[t], "seed \(seed) \(when) thread \(t)")
            }
        }
        try check(db, "before reopen")
        try db.close()
        let reopened = try DB.open(at: dir.path, options: smallOptions())
        try check(reopened, "after reopen")
        try reopened.close()
    }

    /// A refused write (a bad key) and a write after close fail alone: the writes around them,
    /// which reuse the same writer objects, succeed with their own bytes.
    @Test func refusedWritesDoNotLeakIntoTheNextWrite() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        for i in 0..<50 {
            let error = #expect(throws: StorageError.self) { try db.put([], Array("v\(i)".utf8)) }
            #expect(error?.code == .invalidArgument)
            let tooLong = [UInt8](repeating: 1, count: Limits.maxKeySize + 1)
            let limit = #expect(throws: StorageError.self) { try db.put(tooLong, []) }
            #expect(limit?.code == .limit)
            try db.put(Array("k\(i)".utf8), Array("v\(i)".utf8), options: WriteOptions(sync: i % 5 == 0))
        }
        for i in 0..<50 { #expect(try db.get(Array("k\(i)".utf8)) == Array("v\(i)".utf8)) }
        #expect(db.statistics.value(.keysWritten) == 50)
        try db.close()
        let closed = #expect(throws: StorageError.self) { try db.put(Array("late".utf8), []) }
        #expect(closed?.code == .closed)
        let reopened = try DB.open(at: dir.path, options: smallOptions())
        #expect(try reopened.get(Array("late".utf8)) == nil)
        for i in 0..<50 { #expect(try reopened.get(Array("k\(i)".utf8)) == Array("v\(i)".utf8)) }
        try reopened.close()
    }

    /// The borrowing put stores exactly the bytes it was lent, and a record's sequence follows
    /// the writes before it.
    @Test func borrowingPutStoresTheLentBytes() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions())
        let record = Array("..KEY..VALUE..".utf8)
        try record.withUnsafeBytes { raw in
            try db.put(
                bytes: UnsafeRawBufferPointer(rebasing: raw[2..<5]),
                UnsafeRawBufferPointer(rebasing: raw[7..<12]))
        }
        #expect(try db.get(Array("KEY".utf8)) == Array("VALUE".utf8))
        #expect(db.latestSequence == 1)
        let error = #expect(throws: StorageError.self) {
            try record.withUnsafeBytes { raw in
                try db.put(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<0]), raw)
            }
        }
        #expect(error?.code == .invalidArgument)
        try db.close()
    }
}
