import Testing

@testable import OsmanthusStorage

struct BlockCacheTests {
    /// A block of about `size` bytes.
    private func block(size: Int) throws -> Block {
        var builder = BlockBuilder(restartInterval: 16)
        builder.add(InternalKey.make(Array("k".utf8), 1, .value), [UInt8](repeating: 7, count: max(0, size - 25)))
        return try Block(contents: builder.finish(), file: "c.sst", offset: 0)
    }

    @Test func usageNeverExceedsCapacity() throws {
        let cache = BlockCache(capacity: 100_000)
        let b = try block(size: 4096)
        for i in 0..<1000 {
            cache.insert(fileNumber: UInt64(i % 7), offset: UInt64(i * 4096), block: b)
            #expect(cache.usage <= cache.capacity)
        }
        #expect(cache.usage > 90_000)  // and it is actually used
    }

    @Test func largeCachesAreShardedAndStillBounded() throws {
        let cache = BlockCache(capacity: 16 << 20)
        let b = try block(size: 4096)
        for i in 0..<10_000 {
            cache.insert(fileNumber: 1, offset: UInt64(i * 4096), block: b)
        }
        #expect(cache.usage <= cache.capacity)
        #expect(cache.usage > (15 << 20))
    }

    @Test func hitsAndMissesAreCounted() throws {
        let cache = BlockCache(capacity: 1 << 20)
        let b = try block(size: 1000)
        #expect(cache.lookup(fileNumber: 1, offset: 0) == nil)
        cache.insert(fileNumber: 1, offset: 0, block: b)
        #expect(cache.lookup(fileNumber: 1, offset: 0) === b)
        #expect(cache.lookup(fileNumber: 1, offset: 0) === b)
        #expect(cache.lookup(fileNumber: 2, offset: 0) == nil)
        #expect(cache.hits == 2)
        #expect(cache.misses == 2)
    }

    @Test func leastRecentlyUsedBlockIsEvictedFirst() throws {
        let cache = BlockCache(capacity: 3500)
        let b = try block(size: 1000)
        for offset: UInt64 in [0, 1, 2] { cache.insert(fileNumber: 1, offset: offset, block: b) }
        _ = cache.lookup(fileNumber: 1, offset: 0)  // 1 is now the oldest
        cache.insert(fileNumber: 1, offset: 3, block: b)
        #expect(cache.lookup(fileNumber: 1, offset: 1) == nil)
        #expect(cache.lookup(fileNumber: 1, offset: 0) != nil)
        #expect(cache.lookup(fileNumber: 1, offset: 2) != nil)
        #expect(cache.lookup(fileNumber: 1, offset: 3) != nil)
    }

    @Test func evictingAFileDropsOnlyItsBlocks() throws {
        let cache = BlockCache(capacity: 64 << 20)
        let b = try block(size: 500)
        for offset in 0..<100 {
            cache.insert(fileNumber: 7, offset: UInt64(offset), block: b)
            cache.insert(fileNumber: 8, offset: UInt64(offset), block: b)
        }
        let before = cache.usage
        cache.evict(fileNumber: 7)
        #expect(cache.usage == before / 2)
        for offset in 0..<100 {
            #expect(cache.lookup(fileNumber: 7, offset: UInt64(offset)) == nil)
            #expect(cache.lookup(fileNumber: 8, offset: UInt64(offset)) != nil)
        }
    }

    @Test func blockLargerThanTheCacheIsNotKept() throws {
        let cache = BlockCache(capacity: 1000)
        cache.insert(fileNumber: 1, offset: 0, block: try block(size: 5000))
        #expect(cache.usage == 0)
        #expect(cache.lookup(fileNumber: 1, offset: 0) == nil)
    }

    @Test func reinsertingAKeyReplacesItsCharge() throws {
        let cache = BlockCache(capacity: 1 << 20)
        let small = try block(size: 100)
        let large = try block(size: 1000)
        cache.insert(fileNumber: 1, offset: 0, block: small)
        cache.insert(fileNumber: 1, offset: 0, block: large)
        #expect(cache.usage == large.byteSize)
        #expect(cache.lookup(fileNumber: 1, offset: 0) === large)
    }

    @Test func concurrentReadersAndWritersKeepCountsConsistent() async throws {
        let cache = BlockCache(capacity: 8 << 20)
        let b = try block(size: 2000)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for i in 0..<2000 {
                        let offset = UInt64((i * 31 + task) % 500)
                        if cache.lookup(fileNumber: 3, offset: offset) == nil {
                            cache.insert(fileNumber: 3, offset: offset, block: b)
                        }
                    }
                }
            }
        }
        #expect(cache.hits + cache.misses == 8000)
        #expect(cache.usage <= cache.capacity)
        #expect(cache.usage == 500 * b.byteSize)
    }
}
