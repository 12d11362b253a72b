import FoundationEssentials
import Glibc
import OsmanthusBSON
import Testing

@testable import Osmanthus

struct AsyncCollectionTests {
    struct Point: Codable, Equatable, Sendable { var _id: Int; var x: Double }

    @Test func asyncCallsAndForTryAwaitOverACursor() async throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("points", in: "t")
        let docs: [Document] = (0..<300).map { ["_id": .int32(Int32($0)), "x": .double(Double($0) / 2)] }
        let result = try await c.insertMany(docs)
        #expect(result.insertedIds.count == 300)
        try await c.insertOne(Point(_id: 1000, x: 1))
        #expect(try await c.count() == 301)
        #expect(try await c.updateMany(["_id": ["$gte": 100]], ["$inc": ["x": 1]]).modifiedCount == 201)
        #expect(try await c.deleteOne(["_id": 1000]) == 1)

        // A scan: batches read on the pool, every document once, in key order.
        var ids: [Int32] = []
        for try await doc in try await c.find(["_id": ["$gte": 0]]) {
            if case .int32(let id)? = doc["_id"] { ids.append(id) }
        }
        #expect(ids == Array(0..<300))

        var sum = 0.0
        for try await p in try await c.find(["_id": ["$lt": 10]], as: Point.self) { sum += p.x }
        #expect(sum == 22.5)
        #expect(try await c.findOne(["_id": 4], as: Point.self) == Point(_id: 4, x: 2))

        // Sorted results are in memory; `for try await` hands them out directly.
        var sorted: [BSONValue] = []
        for try await doc in try await c.find([:], options: FindOptions(sort: ["_id": -1], limit: 3)) {
            sorted.append(doc["_id"] ?? .null)
        }
        #expect(sorted == [299, 298, 297])
        try db.close()
    }

    @Test func asyncTransactionCommitsAndReportsConflicts() async throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("c", in: "t")
        try await c.insertOne(["_id": "n", "v": 0])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await db.transaction(retries: 100_000) { txn in
                        let tc = txn.collection("c", in: "t")
                        guard case .int32(let v)? = try tc.get("n")?["v"] else { return }
                        try tc.updateOne(["_id": "n"], ["$set": ["v": .int32(v + 1)]])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await c.findOne(["_id": "n"])?["v"] == 8)
        try db.close()
    }

    /// Jobs that block until all of them run at once complete only if the pool gives each its
    /// own thread; on the cooperative pool (one thread per core) they would wait forever.
    @Test func blockingJobsEachGetTheirOwnThread() async throws {
        final class Barrier: @unchecked Sendable {
            // The pthread barrier synchronises itself.
            let raw = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
            init(_ n: UInt32) { pthread_barrier_init(raw, nil, n) }
            deinit {
                pthread_barrier_destroy(raw)
                raw.deallocate()
            }
            func wait() { _ = pthread_barrier_wait(raw) }
        }
        let pool = BlockingPool(maxThreads: 8)
        defer { pool.shutdown() }
        let barrier = Barrier(8)
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try await pool.run {
                        barrier.wait()
                        return i
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(done == 28)
    }
}
