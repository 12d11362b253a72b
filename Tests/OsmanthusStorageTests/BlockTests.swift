import Testing

@testable import OsmanthusStorage

/// Shared helpers for table-layer tests.
enum TableTestData {
    static func ikey(_ user: String, _ sequence: UInt64, _ kind: ValueKind = .value) -> [UInt8] {
        InternalKey.make(Array(user.utf8), sequence, kind)
    }

    static func userKey(_ i: Int) -> String {
        "key" + String(repeating: "0", count: max(0, 6 - String(i).count)) + String(i)
    }

    static func value(_ i: Int, length: Int = 20) -> [UInt8] {
        let text = "value-\(i)-"
        return Array(String(repeating: text, count: length / text.count + 1).utf8.prefix(length))
    }
}

struct BlockTests {
    private func makeBlock(_ entries: [([UInt8], [UInt8])], restartInterval: Int = 16) throws -> Block {
        var builder = BlockBuilder(restartInterval: restartInterval)
        for (key, value) in entries { builder.add(key, value) }
        return try Block(contents: builder.finish(), file: "test.sst", offset: 1234)
    }

    private func sampleEntries(_ count: Int) -> [([UInt8], [UInt8])] {
        (0..<count).map { (TableTestData.ikey(TableTestData.userKey($0), 100), TableTestData.value($0)) }
    }

    private func collectForward(_ it: BlockIterator) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        it.seekToFirst()
        while it.isValid {
            keys.append(it.key)
            it.next()
        }
        return keys
    }

    @Test func entriesComeBackInOrderForwardAndBackward() throws {
        for interval in [1, 2, 16] {
            let entries = sampleEntries(200)
            let block = try makeBlock(entries, restartInterval: interval)
            let it = block.makeIterator()
            it.seekToFirst()
            for (key, value) in entries {
                #expect(it.isValid)
                #expect(it.key == key)
                #expect(it.value == value)
                it.next()
            }
            #expect(!it.isValid)
            #expect(it.error == nil)

            it.seekToLast()
            for (key, value) in entries.reversed() {
                #expect(it.isValid)
                #expect(it.key == key)
                #expect(it.value == value)
                it.prev()
            }
            #expect(!it.isValid)
            #expect(it.error == nil)
        }
    }

    @Test func seekFindsFirstKeyAtOrAfterTarget() throws {
        // Even user keys only, so odd ones fall between entries.
        let entries = (0..<100).map { (TableTestData.ikey(TableTestData.userKey($0 * 2), 10), [UInt8]()) }
        let block = try makeBlock(entries)
        let it = block.makeIterator()
        for i in 0..<199 {
            it.seek(TableTestData.ikey(TableTestData.userKey(i), 10))
            try #require(it.isValid)
            #expect(it.key == TableTestData.ikey(TableTestData.userKey((i + 1) / 2 * 2), 10))
        }
        it.seek(TableTestData.ikey(TableTestData.userKey(199), 10))
        #expect(!it.isValid)
        #expect(it.error == nil)
        // A newer sequence sorts first, an older one after the entry.
        it.seek(TableTestData.ikey(TableTestData.userKey(4), 11))
        #expect(it.key == TableTestData.ikey(TableTestData.userKey(4), 10))
        it.seek(TableTestData.ikey(TableTestData.userKey(4), 9))
        #expect(it.key == TableTestData.ikey(TableTestData.userKey(6), 10))
    }

    @Test func seekThenPrevCrossesRestartPoints() throws {
        let entries = sampleEntries(100)
        let block = try makeBlock(entries, restartInterval: 4)
        let it = block.makeIterator()
        it.seek(entries[50].0)
        for i in stride(from: 50, through: 0, by: -1) {
            #expect(it.isValid && it.key == entries[i].0)
            it.prev()
        }
        #expect(!it.isValid)
    }

    @Test func sharedPrefixesAreStoredOnce() throws {
        let entries = sampleEntries(64)
        var builder = BlockBuilder(restartInterval: 16)
        for (key, value) in entries { builder.add(key, value) }
        let rawSize = entries.reduce(0) { $0 + $1.0.count + $1.1.count + 3 } + 4 * 4 + 4
        #expect(builder.finish().count < rawSize - 63 * 5)
    }

    @Test func emptyBlockHasNoEntries() throws {
        let block = try makeBlock([])
        let it = block.makeIterator()
        it.seekToFirst()
        #expect(!it.isValid)
        it.seekToLast()
        #expect(!it.isValid)
        it.seek(TableTestData.ikey("a", 1))
        #expect(!it.isValid)
        #expect(it.error == nil)
    }

    @Test func restartArrayPointingOutsideTheEntriesIsCorruption() throws {
        var builder = BlockBuilder(restartInterval: 2)
        for (key, value) in sampleEntries(10) { builder.add(key, value) }
        var bytes = builder.finish()
        let count = Int(bytes.loadFixed32(at: bytes.count - 4))
        let lastRestart = bytes.count - 8
        #expect(count == 5)
        bytes.storeFixed32(UInt32(bytes.count), at: lastRestart)
        #expect(throws: StorageError.self) { try Block(contents: bytes, file: "t.sst", offset: 7) }
        do {
            _ = try Block(contents: bytes, file: "t.sst", offset: 7)
        } catch let error as StorageError {
            #expect(error.code == .corruption)
            #expect(error.file == "t.sst")
            #expect(error.offset == 7)
        }
    }

    @Test func restartCountLargerThanTheBlockIsCorruption() {
        for contents: [UInt8] in [[], [1, 2, 3], [0, 0, 0, 0, 9, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF]] {
            #expect(throws: StorageError.self) { try Block(contents: contents, file: "t.sst", offset: 0) }
        }
    }

    @Test func entryRunningPastTheBlockIsCorruption() throws {
        // One entry claiming a 100-byte value with only 2 bytes present.
        var bytes: [UInt8] = [0, 9, 100]
        bytes.append(contentsOf: TableTestData.ikey("a", 1))
        bytes.append(contentsOf: [1, 2])
        bytes.appendFixed32(0)
        bytes.appendFixed32(1)
        let block = try Block(contents: bytes, file: "t.sst", offset: 42)
        let it = block.makeIterator()
        it.seekToFirst()
        #expect(!it.isValid)
        #expect(it.error?.code == .corruption)
        #expect(it.error?.offset == 42)
        #expect(it.error?.file == "t.sst")
        // Once damaged, the iterator stays invalid.
        it.seekToLast()
        #expect(!it.isValid)
    }

    @Test func sharedLengthLongerThanThePreviousKeyIsCorruption() throws {
        var builder = BlockBuilder(restartInterval: 16)
        builder.add(TableTestData.ikey("abc", 1), [1])
        var bytes: [UInt8] = builder.finish()
        // Replace the restart array: append a second entry sharing 50 bytes.
        bytes.removeLast(8)
        bytes.append(contentsOf: [50, 1, 0, 0x41])
        bytes.appendFixed32(0)
        bytes.appendFixed32(1)
        let it = try Block(contents: bytes, file: "t.sst", offset: 0).makeIterator()
        it.seekToFirst()
        #expect(it.isValid)
        it.next()
        #expect(!it.isValid)
        #expect(it.error?.code == .corruption)
    }

    @Test func keyShorterThanAnInternalKeyTrailerIsCorruption() throws {
        var bytes: [UInt8] = [0, 3, 0, 0x61, 0x62, 0x63]
        bytes.appendFixed32(0)
        bytes.appendFixed32(1)
        let it = try Block(contents: bytes, file: "t.sst", offset: 0).makeIterator()
        it.seek(TableTestData.ikey("a", 1))
        #expect(!it.isValid)
        #expect(it.error?.code == .corruption)
    }

    @Test func truncatedVarintIsCorruption() throws {
        var bytes: [UInt8] = [0x80, 0x80]
        bytes.appendFixed32(0)
        bytes.appendFixed32(1)
        let it = try Block(contents: bytes, file: "t.sst", offset: 0).makeIterator()
        it.seekToFirst()
        #expect(!it.isValid)
        #expect(it.error?.code == .corruption)
    }

    @Test func everyByteOfABlockCanBeDamagedWithoutCrashing() throws {
        var builder = BlockBuilder(restartInterval: 3)
        let entries = sampleEntries(12)
        for (key, value) in entries { builder.add(key, value) }
        let good = builder.finish()
        for i in 0..<good.count {
            for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = good
                bytes[i] ^= pattern
                guard let block = try? Block(contents: bytes, file: "t.sst", offset: 0) else { continue }
                let it = block.makeIterator()
                var steps = 0
                it.seekToFirst()
                while it.isValid && steps < 100 {
                    _ = it.value
                    it.next()
                    steps += 1
                }
                it.seekToLast()
                steps = 0
                while it.isValid && steps < 100 {
                    it.prev()
                    steps += 1
                }
                #expect(steps < 100)
                let fresh = block.makeIterator()
                fresh.seek(entries[7].0)
                #expect(fresh.error == nil || fresh.error?.code == .corruption)
            }
        }
    }
}
