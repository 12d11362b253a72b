import Foundation
import Testing

@testable import OsmanthusStorage

/// `TableBuilder.fillCache` / `Options.fillCacheOnFlush`: a flushed table's data blocks go into
/// the block cache exactly as a read would decode them, only into free room, and reads answer
/// the same with and without them.
struct FlushCacheFillTests {
    /// Seeded entries: sorted distinct user keys sharing prefixes, values of 0 to 600 bytes
    /// (one- and two-byte value lengths), some tombstones.
    private func entries(_ count: Int, _ rng: inout SplitMix64) -> [(key: [UInt8], value: [UInt8])] {
        var users = Set<[UInt8]>()
        while users.count < count { users.insert(Array("doc".utf8) + rng.bytes(maxLength: 8, maxByte: 12)) }
        return users.sorted { compareBytes($0, $1) < 0 }.enumerated().map { i, user in
            let deletion = rng.next() % 10 == 0
            let value = deletion ? [] : (0..<Int(rng.next() % 600)).map { _ in UInt8.random(in: 97...100, using: &rng) }
            return (InternalKey.make(user, UInt64(i + 1), deletion ? .deletion : .value), value)
        }
    }

    /// Builds a table of `entries`, filling `cache` under `number`.
    private func build(
        _ entries: [(key: [UInt8], value: [UInt8])], _ compression: CompressionKind, cache: BlockCache?, number: UInt64
    ) throws -> ByteArrayFile {
        let file = ByteArrayFile()
        var options = TableOptions()
        options.compression = compression
        let builder = TableBuilder(file: file, options: options)
        if let cache { builder.fillCache = (cache, number) }
        for e in entries { try builder.add(e.key, e.value) }
        _ = try builder.finish()
        return file
    }

    /// Every data block's handle, from the table's index block.
    private func dataHandles(_ table: Table) throws -> [BlockHandle] {
        let index = table.indexBlockForIterators.makeIterator()
        var handles: [BlockHandle] = []
        index.seekToFirst()
        while index.isValid {
            handles.append(try table.dataHandle(at: index))
            index.next()
        }
        return handles
    }

    @Test(arguments: [CompressionKind.none, .lz4, .zstd])
    func filledBlocksAreTheBlocksAReadDecodes(compression: CompressionKind) throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        let data = entries(1_500, &rng)
        let cache = BlockCache(capacity: 64 << 20)
        let file = try build(data, compression, cache: cache, number: 7)
        let table = try Table.open(file: file, fileNumber: 7, cache: nil)
        let handles = try dataHandles(table)
        #expect(handles.count > 20, "seed \(seed)")
        var cached = 0
        for handle in handles {
            let fromFile = try Table.readBlock(file, handle, limit: UInt64(file.bytes.count))
            let filled = cache.lookup(fileNumber: 7, offset: handle.offset)
            #expect(filled?.bytes == fromFile.bytes, "seed \(seed) block at \(handle.offset)")
            if filled != nil { cached += 1 }
        }
        #expect(cached == handles.count, "seed \(seed)")
        // Point reads through the filled cache answer as reads of the file alone.
        let warm = try Table.open(file: file, fileNumber: 7, cache: cache)
        let readsBefore = file.readCount
        for e in data {
            let user = Array(e.key.dropLast(InternalKey.trailerSize))
            let lookup = InternalKey.lookupKey(user, maxSequenceNumber)
            let a = try warm.get(lookup)
            let b = try table.get(lookup)
            #expect(a?.key == b?.key && a?.value == b?.value, "seed \(seed)")
            #expect(a?.key == e.key && a?.value == e.value, "seed \(seed)")
        }
        // `table` (no cache) read the file for every get; `warm` never did.
        #expect(file.readCount - readsBefore == data.count, "seed \(seed)")
    }

    @Test func fillingTakesOnlyFreeRoomAndNeverEvicts() throws {
        var rng = SplitMix64(seed: 0xF111)
        // One shard of 1 MiB; a block reads brought in first.
        let cache = BlockCache(capacity: 1 << 20)
        var builder = BlockBuilder(restartInterval: 16)
        builder.add(InternalKey.make(Array("read".utf8), 1, .value), [UInt8](repeating: 1, count: 3000))
        let readBlock = try Block(contents: builder.finish(), file: "r.sst", offset: 0)
        cache.insert(fileNumber: 1, offset: 0, block: readBlock)
        // About 3 MiB of data blocks: more than the room left.
        let data = (0..<3).flatMap { _ in entries(2_000, &rng) }
        var seen = Set<[UInt8]>()
        let distinct = data.filter { seen.insert(Array($0.key.dropLast(8))).inserted }
            .sorted { InternalKey.compare($0.key, $1.key) < 0 }
        let file = try build(distinct, .lz4, cache: cache, number: 2)
        #expect(cache.lookup(fileNumber: 1, offset: 0) === readBlock)
        #expect(cache.usage <= cache.capacity)
        let table = try Table.open(file: file, fileNumber: 2, cache: nil)
        let handles = try dataHandles(table)
        let filled = handles.filter { cache.lookup(fileNumber: 2, offset: $0.offset) != nil }
        #expect(!filled.isEmpty && filled.count < handles.count)
        // What filled in is still exact.
        for handle in filled {
            #expect(
                cache.lookup(fileNumber: 2, offset: handle.offset)?.bytes
                    == (try Table.readBlock(file, handle, limit: UInt64(file.bytes.count))).bytes)
        }
    }

    @Test func filledBlocksAreEvictedBeforeReadBlocksUnlessReadThemselves() throws {
        var builder = BlockBuilder(restartInterval: 16)
        builder.add(InternalKey.make(Array("b".utf8), 1, .value), [UInt8](repeating: 2, count: 100_000))
        let block = try Block(contents: builder.finish(), file: "b.sst", offset: 0)
        // One shard of 1 MiB: room for ten of these blocks.
        for readFilled in [false, true] {
            let cache = BlockCache(capacity: 1 << 20)
            cache.insert(fileNumber: 1, offset: 0, block: block)  // brought in by a read
            #expect(cache.insertIfRoom(fileNumber: 2, offset: 0, block: block))  // a flush's
            #expect(cache.insertIfRoom(fileNumber: 2, offset: 1, block: block))
            if readFilled { _ = cache.lookup(fileNumber: 2, offset: 0) }
            // Reads fill the rest and then need room: two blocks go.
            for i in 0..<9 { cache.insert(fileNumber: 3, offset: UInt64(i), block: block) }
            #expect(cache.lookup(fileNumber: 2, offset: 1) == nil)  // unread filled block: first out
            #expect((cache.lookup(fileNumber: 2, offset: 0) != nil) == readFilled)
            // Unread, both filled blocks went before the read block; once read, a filled block
            // is more recent than the read block, which goes instead.
            #expect((cache.lookup(fileNumber: 1, offset: 0) != nil) == !readFilled)
            #expect(cache.usage <= cache.capacity)
        }
    }

    /// A database with and without the fill, same seeded writes and flushes: every get and a
    /// full scan agree with a model, and with the fill on, reads after a flush find their
    /// blocks in the cache.
    @Test func databaseReadsMatchAModelWithTheFillOnAndOff() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        for fill in [false, true] {
            var rng = SplitMix64(seed: seed)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fill-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var options = Options()
            options.backgroundWork = false
            options.fillCacheOnFlush = fill
            let db = try DB.open(at: dir, options: options)
            var model: [[UInt8]: [UInt8]] = [:]
            for round in 0..<4 {
                for _ in 0..<800 {
                    let key = Array("k".utf8) + rng.bytes(maxLength: 6, maxByte: 20)
                    if rng.next() % 8 == 0 {
                        try db.delete(key)
                        model[key] = nil
                    } else {
                        let value = (0..<Int(rng.next() % 400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                        try db.put(key, value)
                        model[key] = value
                    }
                }
                try db.flush()
                for (key, value) in model { #expect(try db.get(key) == value, "seed \(seed) fill \(fill) round \(round)") }
                for _ in 0..<200 {
                    let key = Array("k".utf8) + rng.bytes(maxLength: 6, maxByte: 20)
                    #expect(try db.get(key) == model[key], "seed \(seed) fill \(fill) round \(round)")
                }
            }
            let it = db.makeIterator()
            it.seekToFirst()
            var scanned: [[UInt8]: [UInt8]] = [:]
            while it.isValid {
                scanned[it.key] = it.value
                it.next()
            }
            #expect(scanned == model, "seed \(seed) fill \(fill)")
            let misses = db.blockCache?.misses ?? 0
            if fill { #expect(misses == 0, "seed \(seed): reads after flushes missed the cache \(misses) times") }
            try db.close()
        }
    }
}
