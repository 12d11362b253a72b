import Foundation
import Testing

@testable import OsmanthusStorage

struct TableTests {
    typealias Entry = (key: [UInt8], value: [UInt8])

    private func ikey(_ user: String, _ sequence: UInt64, _ kind: ValueKind = .value) -> [UInt8] {
        TableTestData.ikey(user, sequence, kind)
    }

    private func lookup(_ user: String, _ sequence: UInt64 = maxSequenceNumber) -> [UInt8] {
        InternalKey.lookupKey(Array(user.utf8), sequence)
    }

    private func options(_ compression: CompressionKind = .none, blockSize: Int = 4096) -> TableOptions {
        var options = TableOptions()
        options.compression = compression
        options.blockSize = blockSize
        return options
    }

    private func build(_ entries: [Entry], _ options: TableOptions) throws -> ByteArrayFile {
        let file = ByteArrayFile()
        let builder = TableBuilder(file: file, options: options)
        for entry in entries { try builder.add(entry.key, entry.value) }
        #expect(builder.entryCount == entries.count)
        let size = try builder.finish()
        #expect(size == file.size)
        return file
    }

    private func sampleEntries(_ count: Int, valueLength: Int = 40) -> [Entry] {
        (0..<count).map { (ikey(TableTestData.userKey($0), UInt64($0 + 1)), TableTestData.value($0, length: valueLength)) }
    }

    private func scanForward(_ it: InternalIterator) throws -> [Entry] {
        var out: [Entry] = []
        it.seekToFirst()
        while it.isValid {
            out.append((it.key, it.value))
            it.next()
        }
        if let error = it.error { throw error }
        return out
    }

    private func scanBackward(_ it: InternalIterator) throws -> [Entry] {
        var out: [Entry] = []
        it.seekToLast()
        while it.isValid {
            out.append((it.key, it.value))
            it.prev()
        }
        if let error = it.error { throw error }
        return out
    }

    private func same(_ a: [Entry], _ b: [Entry]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// The trailer's compression byte of the block at `handle`.
    private func compressionByte(_ file: ByteArrayFile, _ handle: BlockHandle) -> UInt8 {
        file.bytes[Int(handle.offset + handle.size)]
    }

    /// The data block handles, from the index.
    private func dataHandles(_ file: ByteArrayFile) throws -> [BlockHandle] {
        let footerOffset = file.size - UInt64(TableFormat.footerSize)
        let footer = Array(file.bytes[Int(footerOffset)...])
        let (_, indexHandle) = try Table.decodeFooter(footer, file: file.path, offset: footerOffset)
        let contents = try Table.readBlockContents(file, indexHandle, limit: footerOffset)
        let it = try Block(contents: contents, file: file.path, offset: indexHandle.offset).makeIterator()
        var handles: [BlockHandle] = []
        it.seekToFirst()
        while it.isValid {
            handles.append(try #require(BlockHandle.decode(it.value)))
            it.next()
        }
        return handles
    }

    @Test(arguments: CompressionKind.allCases)
    func everyKeyReadsBackThroughGetAndBothIterationDirections(_ kind: CompressionKind) throws {
        let entries = sampleEntries(3000)
        let file = try build(entries, options(kind, blockSize: 1024))
        let handles = try dataHandles(file)
        #expect(handles.count > 50)
        if kind != .none {
            // Compressed data blocks have their trailers packed (SPEC.md §7.3).
            #expect(handles.allSatisfy { compressionByte(file, $0) == kind.rawValue | TableFormat.packedTrailersFlag })
        } else {
            #expect(handles.allSatisfy { compressionByte(file, $0) == kind.rawValue })
        }
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        for entry in entries {
            let found = try #require(try table.get(InternalKey.lookupKey(Array(InternalKey.userKey(entry.key)), maxSequenceNumber)))
            #expect(found.key == entry.key)
            #expect(found.value == entry.value)
        }
        #expect(same(try scanForward(table.makeIterator()), entries))
        #expect(same(try scanBackward(table.makeIterator()), entries.reversed()))
    }

    @Test func compressionShrinksTheFile() throws {
        let entries = sampleEntries(2000, valueLength: 200)
        let plain = try build(entries, options(.none)).size
        let lz4 = try build(entries, options(.lz4)).size
        let zstd = try build(entries, options(.zstd)).size
        #expect(lz4 < plain / 2)
        #expect(zstd < plain / 2)
    }

    @Test func incompressibleBlocksAreStoredRaw() throws {
        var rng = SystemRandomNumberGenerator()
        let entries: [Entry] = (0..<100).map { i in
            (ikey(TableTestData.userKey(i), 1), (0..<100).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        for kind in [CompressionKind.lz4, .zstd] {
            let file = try build(entries, options(kind, blockSize: 1024))
            let handles = try dataHandles(file)
            // Not compressed; packed, since that still saves the trailers' zero bytes.
            #expect(handles.allSatisfy { compressionByte(file, $0) == TableFormat.packedTrailersFlag })
            let table = try Table.open(file: file, fileNumber: 1, cache: nil)
            #expect(same(try scanForward(table.makeIterator()), entries))
        }
    }

    @Test func seekLandsOnTheFirstEntryAtOrAfterTheTarget() throws {
        // Even user keys, small blocks: odd targets fall between entries and between blocks.
        let entries: [Entry] = (0..<500).map { (ikey(TableTestData.userKey($0 * 2), 5), TableTestData.value($0)) }
        let table = try Table.open(file: try build(entries, options(blockSize: 256)), fileNumber: 1, cache: nil)
        let it = table.makeIterator()
        for i in 0..<999 {
            it.seek(lookup(TableTestData.userKey(i)))
            try #require(it.isValid)
            #expect(it.key == entries[(i + 1) / 2].key)
        }
        it.seek(lookup(TableTestData.userKey(999)))
        #expect(!it.isValid)
        #expect(it.error == nil)
        it.seek(lookup(""))
        #expect(it.isValid && it.key == entries[0].key)
        // Seek, then walk back across block boundaries to the start.
        it.seek(lookup(TableTestData.userKey(600)))
        for i in stride(from: 300, through: 0, by: -1) {
            try #require(it.isValid)
            #expect(it.key == entries[i].key)
            it.prev()
        }
        #expect(!it.isValid)
        #expect(it.error == nil)
        // Older snapshot than the entry: the entry is skipped.
        it.seek(lookup(TableTestData.userKey(10), 4))
        #expect(it.key == entries[6].key)
    }

    @Test func getFindsTheNewestVersionVisibleAtASnapshot() throws {
        let entries: [Entry] = [
            (ikey("apple", 9), Array("v9".utf8)),
            (ikey("apple", 5, .deletion), []),
            (ikey("apple", 2), Array("v2".utf8)),
            (ikey("banana", 4), Array("b4".utf8)),
        ]
        let table = try Table.open(file: try build(entries, options()), fileNumber: 1, cache: nil)
        #expect(try table.get(lookup("apple"))?.value == Array("v9".utf8))
        #expect(try table.get(lookup("apple", 9))?.key == entries[0].key)
        #expect(try table.get(lookup("apple", 8))?.key == entries[1].key)
        #expect(try table.get(lookup("apple", 8)).map { InternalKey.kind($0.key) } == .deletion)
        #expect(try table.get(lookup("apple", 4))?.value == Array("v2".utf8))
        #expect(try table.get(lookup("apple", 1)) == nil)
        #expect(try table.get(lookup("banana", 3)) == nil)
        #expect(try table.get(lookup("banana"))?.value == Array("b4".utf8))
        #expect(try table.get(lookup("aardvark")) == nil)
        #expect(try table.get(lookup("apples")) == nil)
        #expect(try table.get(lookup("cherry")) == nil)
    }

    @Test func versionsOfOneKeySpanningManyBlocksAreAllReachable() throws {
        // 300 versions of "hot" (newest first), between two other keys, in 128-byte blocks.
        var entries: [Entry] = [(ikey("cold", 1), [1])]
        for seq in stride(from: 600, to: 0, by: -2) {
            entries.append((ikey("hot", UInt64(seq)), Array("v\(seq)".utf8)))
        }
        entries.append((ikey("warm", 1), [2]))
        let table = try Table.open(file: try build(entries, options(blockSize: 128)), fileNumber: 1, cache: nil)
        for snapshot in 2...600 {
            let visible = snapshot - snapshot % 2
            #expect(try table.get(lookup("hot", UInt64(snapshot)))?.value == Array("v\(visible)".utf8))
        }
        #expect(try table.get(lookup("hot", 1)) == nil)
        #expect(same(try scanBackward(table.makeIterator()), entries.reversed()))
    }

    @Test func emptyValuesAndEmptyUserKeysRoundTrip() throws {
        let entries: [Entry] = [(ikey("", 3), []), (ikey("a", 1), []), (ikey("b", 1), [0])]
        let table = try Table.open(file: try build(entries, options(.lz4)), fileNumber: 1, cache: nil)
        #expect(try table.get(lookup(""))?.value == [])
        #expect(try table.get(lookup("a"))?.value == [])
        #expect(same(try scanForward(table.makeIterator()), entries))
    }

    @Test func emptyTableHasNoEntries() throws {
        let file = try build([], options())
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        #expect(try table.get(lookup("a")) == nil)
        let it = table.makeIterator()
        it.seekToFirst()
        #expect(!it.isValid)
        it.seekToLast()
        #expect(!it.isValid)
        it.seek(lookup("a"))
        #expect(!it.isValid)
        #expect(it.error == nil)
        #expect(table.approximateOffset(of: lookup("a")) == 0)
    }

    @Test func absentKeysAreAnsweredByTheFilterWithoutReadingBlocks() throws {
        let file = try build(sampleEntries(2000), options(blockSize: 1024))
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        let readsAfterOpen = file.readCount
        for i in 0..<1000 {
            #expect(try table.get(lookup("absent-\(i)")) == nil)
        }
        // About 1% false positives are expected; each costs one block read.
        #expect(file.readCount - readsAfterOpen < 40)
        _ = try table.get(lookup(TableTestData.userKey(5)))
        #expect(file.readCount > readsAfterOpen)
    }

    @Test func tablesWithoutAFilterStillAnswerCorrectly() throws {
        var opts = options()
        opts.bloomBitsPerKey = 0
        let entries = sampleEntries(100)
        let table = try Table.open(file: try build(entries, opts), fileNumber: 1, cache: nil)
        #expect(try table.get(lookup(TableTestData.userKey(42)))?.value == entries[42].value)
        #expect(try table.get(lookup("absent")) == nil)
    }

    @Test func blockCacheServesRepeatedReads() throws {
        let file = try build(sampleEntries(500), options(blockSize: 1024))
        let cache = BlockCache(capacity: 1 << 20)
        let table = try Table.open(file: file, fileNumber: 9, cache: cache)
        _ = try table.get(lookup(TableTestData.userKey(100)))
        let reads = file.readCount
        #expect(cache.misses == 1 && cache.hits == 0)
        _ = try table.get(lookup(TableTestData.userKey(100)))
        #expect(cache.hits == 1)
        #expect(file.readCount == reads)
        cache.evict(fileNumber: 9)
        #expect(cache.usage == 0)

        // A scan that asks not to fill the cache leaves it empty.
        _ = try scanForward(table.makeIterator(fillCache: false))
        #expect(cache.usage == 0)
        _ = try scanForward(table.makeIterator())
        #expect(cache.usage > 0)
    }

    @Test func approximateOffsetsGrowWithKeys() throws {
        let entries = sampleEntries(2000)
        let file = try build(entries, options(blockSize: 1024))
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        var previous: UInt64 = 0
        for i in stride(from: 0, to: 2000, by: 100) {
            let offset = table.approximateOffset(of: entries[i].key)
            #expect(offset >= previous)
            previous = offset
        }
        #expect(table.approximateOffset(of: entries[0].key) == 0)
        #expect(previous > table.fileSize / 2)
        let end = table.approximateOffset(of: lookup("zzz"))
        #expect(end > previous && end < table.fileSize)
    }

    @Test func builderReportsItsProgress() throws {
        let file = ByteArrayFile()
        let builder = TableBuilder(file: file, options: options(blockSize: 1024))
        #expect(builder.estimatedFileSize < 100)
        var last: UInt64 = 0
        for entry in sampleEntries(500) {
            try builder.add(entry.key, entry.value)
            #expect(builder.estimatedFileSize >= last)
            last = builder.estimatedFileSize
        }
        #expect(file.size > 0)  // full blocks were written as they filled
        #expect(last > 500 * 40)
        let size = try builder.finish()
        #expect(size == file.size && size >= last)
    }

    @Test func indexSeparatorsAreShortAndBetweenTheirNeighbours() {
        let a = ikey("the quick brown fox", 5)
        let b = ikey("the slow brown fox", 9)
        let s = TableBuilder.separator(a, b)
        #expect(Array(InternalKey.userKey(s)) == Array("the r".utf8))
        #expect(InternalKey.compare(a, s) < 0 && InternalKey.compare(s, b) < 0)
        // No room to shorten: a prefix of the next key, or adjacent bytes.
        #expect(TableBuilder.separator(ikey("abc", 1), ikey("abcd", 1)) == ikey("abc", 1))
        #expect(TableBuilder.separator(ikey("abc", 1), ikey("abd", 1)) == ikey("abc", 1))
        #expect(TableBuilder.separator(ikey("abc", 3), ikey("abc", 2)) == ikey("abc", 3))
        let succ = TableBuilder.successor(ikey("hello", 1))
        #expect(Array(InternalKey.userKey(succ)) == Array("i".utf8))
        #expect(InternalKey.compare(ikey("hello", 1), succ) < 0)
        let allFF = InternalKey.make([0xFF, 0xFF], 1, .value)
        #expect(TableBuilder.successor(allFF) == allFF)
    }

    @Test func tableOnDiskRoundTrips() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let fs = PosixFileSystem()
        let path = joinPath(dir.path, "000007.sst")
        let entries = sampleEntries(1000)
        let out = try fs.createWritable(path)
        let builder = TableBuilder(file: out, options: options(.zstd))
        for entry in entries { try builder.add(entry.key, entry.value) }
        let size = try builder.finish()
        try out.sync()
        try out.close()
        #expect(try fs.fileSize(path) == size)
        let table = try Table.open(file: try fs.openReadable(path), fileNumber: 7, cache: BlockCache(capacity: 1 << 20))
        #expect(table.fileNumber == 7 && table.fileSize == size)
        #expect(same(try scanForward(table.makeIterator()), entries))
    }

    // MARK: Damage

    private func smallTable(_ kind: CompressionKind) throws -> (ByteArrayFile, [Entry]) {
        let entries: [Entry] = (0..<12).map { (ikey(TableTestData.userKey($0), UInt64($0 + 1)), TableTestData.value($0, length: 30)) }
        return (try build(entries, options(kind, blockSize: 150)), entries)
    }

    /// Opens and reads everything (scan both ways and a get per key); throws what it meets.
    private func readAll(_ file: ByteArrayFile, _ entries: [Entry]) throws -> Bool {
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        var ok = same(try scanForward(table.makeIterator()), entries)
        let backward = try scanBackward(table.makeIterator())
        ok = ok && same(backward, entries.reversed())
        for entry in entries {
            let found = try table.get(InternalKey.lookupKey(Array(InternalKey.userKey(entry.key)), maxSequenceNumber))
            ok = ok && found?.key == entry.key && found?.value == entry.value
        }
        return ok
    }

    @Test(arguments: [CompressionKind.none, .lz4])
    func everySingleByteFlipIsReportedAsCorruption(_ kind: CompressionKind) throws {
        let (good, entries) = try smallTable(kind)
        #expect(try readAll(good, entries))
        let handles = try dataHandles(good)
        #expect(handles.count >= 3)
        if kind == .lz4 {
            #expect(handles.contains { compressionByte(good, $0) == kind.rawValue | TableFormat.packedTrailersFlag })
        }
        var undetected: [Int] = []
        for i in 0..<good.bytes.count {
            for pattern: UInt8 in [0x01, 0xFF] {
                var bytes = good.bytes
                bytes[i] ^= pattern
                let file = ByteArrayFile(path: "flip.sst", bytes: bytes)
                do {
                    _ = try readAll(file, entries)
                    undetected.append(i)
                } catch let error as StorageError {
                    #expect(error.code == .corruption, "byte \(i): \(error)")
                    #expect(error.file == "flip.sst")
                    #expect(error.offset.map { $0 <= UInt64(i) } == true, "byte \(i): \(error)")
                }
            }
        }
        // Every byte is covered by a block checksum, the footer checksum or the magic number.
        #expect(undetected.isEmpty, "undetected flips at \(undetected)")
    }

    @Test func everyTruncationIsReportedAsCorruption() throws {
        let (good, entries) = try smallTable(.lz4)
        for length in 0..<good.bytes.count {
            let file = ByteArrayFile(path: "short.sst", bytes: Array(good.bytes.prefix(length)))
            #expect(throws: StorageError.self) { _ = try readAll(file, entries) }
            do {
                _ = try readAll(file, entries)
            } catch let error as StorageError {
                #expect(error.code == .corruption)
            }
        }
    }

    @Test func damagedDataBlockStopsTheIteratorWithItsOffset() throws {
        let entries = sampleEntries(200)
        let file = try build(entries, options(blockSize: 512))
        let handles = try dataHandles(file)
        let damaged = handles[2]
        file.bytes[Int(damaged.offset) + 3] ^= 0x40
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        let it = table.makeIterator()
        var seen = 0
        it.seekToFirst()
        while it.isValid {
            #expect(it.key == entries[seen].key)
            seen += 1
            it.next()
        }
        #expect(seen > 0)
        let error = try #require(it.error)
        #expect(error.code == .corruption)
        #expect(error.offset == damaged.offset)
        #expect(error.file == file.path)
        // The damage stays reported; the iterator does not silently resume.
        it.seekToFirst()
        #expect(!it.isValid && it.error != nil)
        // get on a key of that block throws; keys elsewhere still read.
        let victim = entries[seen + 1]
        #expect(throws: StorageError.self) {
            _ = try table.get(InternalKey.lookupKey(Array(InternalKey.userKey(victim.key)), maxSequenceNumber))
        }
        #expect(try table.get(InternalKey.lookupKey(Array(InternalKey.userKey(entries[0].key)), maxSequenceNumber)) != nil)
    }

    @Test func notATableIsCorruption() throws {
        let file = ByteArrayFile(path: "text.sst", bytes: Array(String(repeating: "not a table ", count: 20).utf8))
        #expect(throws: StorageError.self) { _ = try Table.open(file: file, fileNumber: 1, cache: nil) }
        do {
            _ = try Table.open(file: file, fileNumber: 1, cache: nil)
        } catch let error as StorageError {
            #expect(error.code == .corruption)
            #expect(error.message.contains("magic"))
            #expect(error.offset == file.size - UInt64(TableFormat.footerSize))
        }
    }

    // MARK: Golden file

    /// Tests/OsmanthusStorageTests/Golden/table-v1.sst was written once by this code with lz4 and
    /// 128-byte blocks; it must keep decoding to exactly these entries (SPEC.md §7).
    @Test func goldenTableV1DecodesToKnownEntries() throws {
        let folder = try #require(Bundle.module.url(forResource: "Golden", withExtension: nil))
        let path = folder.appendingPathComponent("table-v1.sst").path
        let file = try PosixFileSystem().openReadable(path)
        #expect(file.size == 258)
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        let expected: [Entry] = [
            (ikey("apple", 3), Array("red and round, red and round, red and round".utf8)),
            (ikey("apple", 2, .deletion), []),
            (ikey("apple", 1), Array("green".utf8)),
            (ikey("banana", 7), Array("yellow, yellow, yellow, yellow, yellow".utf8)),
            (ikey("cherry", 4), Array("dark red, dark red, dark red, dark red".utf8)),
        ]
        #expect(same(try scanForward(table.makeIterator()), expected))
        #expect(same(try scanBackward(table.makeIterator()), expected.reversed()))
        #expect(try table.get(lookup("apple", 2))?.key == ikey("apple", 2, .deletion))
        #expect(try table.get(lookup("banana"))?.value == expected[3].value)
        #expect(try table.get(lookup("durian")) == nil)

        let bytes = try file.readExactly(at: 0, count: 258)
        #expect(Array(bytes.suffix(8)) == Array("osmtable".utf8))
        #expect(bytes.loadFixed32(at: 258 - 16) == 1)  // format version
        // Two data blocks (apple versions | banana, cherry), both stored lz4-compressed.
        let memory = ByteArrayFile(path: path, bytes: bytes)
        let handles = try dataHandles(memory)
        #expect(handles == [BlockHandle(offset: 0, size: 94), BlockHandle(offset: 99, size: 39)])
        #expect(handles.allSatisfy { compressionByte(memory, $0) == CompressionKind.lz4.rawValue })
    }

    /// SPEC.md §7.6: one entry, no compression, byte for byte.
    @Test func specWorkedExampleMatchesTheBuilderByteForByte() throws {
        let file = try build([(ikey("a", 5), Array("x".utf8))], options())
        let hex = """
            00 09 01 61 01 05 00 00 00 00 00 00 78 00 00 00 00 01 00 00 00 00 2a f1 a1 7f
            00 00 00 00 00 00 00 00 00 00 00 11 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 40 04 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 80 08 00 00 00 00 47 00 1a 7c 1b c9
            00 09 02 61 01 05 00 00 00 00 00 00 00 15 00 00 00 00 01 00 00 00 00 ee 0f 7d b0
            1a 41 60 16
            """
        var expected = hex.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
        expected.append(contentsOf: repeatElement(0, count: 36))
        expected.append(contentsOf: [0x01, 0x00, 0x00, 0x00, 0xac, 0x8f, 0x74, 0xfa])
        expected.append(contentsOf: Array("osmtable".utf8))
        #expect(expected.count == 179)
        #expect(file.bytes == expected)
    }

    // MARK: Crafted input (valid checksums over bad contents)

    /// Recomputes the trailer checksum of the block at `handle`, so damage inside it gets past
    /// the checksum and reaches the decoders.
    private func fixChecksum(_ bytes: inout [UInt8], _ handle: BlockHandle) {
        let start = Int(handle.offset)
        let end = start + Int(handle.size) + 1
        bytes.storeFixed32(CRC32C.mask(CRC32C.checksum(bytes[start..<end])), at: end)
    }

    private func footerHandles(_ bytes: [UInt8]) throws -> (filter: BlockHandle, index: BlockHandle) {
        let footerOffset = bytes.count - TableFormat.footerSize
        return try Table.decodeFooter(Array(bytes[footerOffset...]), file: "t", offset: UInt64(footerOffset))
    }

    /// Rewrites the footer with new handles and a valid checksum.
    private func rewriteFooter(_ bytes: inout [UInt8], filter: BlockHandle, index: BlockHandle) {
        var footer: [UInt8] = []
        filter.encode(into: &footer)
        index.encode(into: &footer)
        footer.append(contentsOf: repeatElement(0, count: TableFormat.footerHandlesSize - footer.count))
        footer.appendFixed32(TableFormat.formatVersion)
        footer.appendFixed32(CRC32C.mask(CRC32C.checksum(footer)))
        footer.appendFixed64(TableFormat.magic)
        bytes.replaceSubrange((bytes.count - TableFormat.footerSize)..., with: footer)
    }

    @Test(arguments: CompressionKind.allCases)
    func damagedBlocksWithValidChecksumsNeverCrash(_ kind: CompressionKind) throws {
        let (good, entries) = try smallTable(kind)
        let meta = try footerHandles(good.bytes)
        var blocks = try dataHandles(good)
        blocks.append(meta.index)
        var outcomes = (corruption: 0, readable: 0)
        for handle in blocks {
            // Every stored byte and the compression byte.
            for i in Int(handle.offset)...Int(handle.offset + handle.size) {
                for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                    var bytes = good.bytes
                    bytes[i] ^= pattern
                    fixChecksum(&bytes, handle)
                    do {
                        _ = try readAll(ByteArrayFile(path: "crafted.sst", bytes: bytes), entries)
                        outcomes.readable += 1
                    } catch let error as StorageError {
                        #expect(error.code == .corruption, "byte \(i): \(error)")
                        #expect(error.file == "crafted.sst")
                        outcomes.corruption += 1
                    }
                }
            }
        }
        #expect(outcomes.corruption > 0)
    }

    @Test func handlesOutsideTheFileAreCorruption() throws {
        let (good, entries) = try smallTable(.none)
        let meta = try footerHandles(good.bytes)
        let size = UInt64(good.bytes.count)
        let forged: [(BlockHandle, BlockHandle)] = [
            (meta.filter, BlockHandle(offset: size, size: 10)),
            (meta.filter, BlockHandle(offset: meta.index.offset, size: size)),
            (meta.filter, BlockHandle(offset: UInt64.max - 2, size: 10)),
            (BlockHandle(offset: 0, size: UInt64.max), meta.index),
            (meta.filter, BlockHandle(offset: 0, size: meta.index.size)),  // not a block start
        ]
        for (filter, index) in forged {
            var bytes = good.bytes
            rewriteFooter(&bytes, filter: filter, index: index)
            #expect(throws: StorageError.self) { _ = try readAll(ByteArrayFile(path: "f.sst", bytes: bytes), entries) }
        }
        // A data handle in the index pointing past the data: rewrite the index block.
        var index = BlockBuilder(restartInterval: 1)
        var handleBytes: [UInt8] = []
        BlockHandle(offset: meta.filter.offset, size: meta.filter.size).encode(into: &handleBytes)
        index.add(ikey("zzz", 1), handleBytes)
        let contents = index.finish()
        var bytes = Array(good.bytes[..<Int(meta.index.offset)])
        bytes.append(contentsOf: contents)
        bytes.append(0)
        bytes.appendFixed32(CRC32C.mask(CRC32C.checksum(contents + [0])))
        bytes.append(contentsOf: repeatElement(0, count: TableFormat.footerSize))
        rewriteFooter(&bytes, filter: meta.filter, index: BlockHandle(offset: meta.index.offset, size: UInt64(contents.count)))
        let table = try Table.open(file: ByteArrayFile(path: "i.sst", bytes: bytes), fileNumber: 1, cache: nil)
        let it = table.makeIterator()
        it.seekToFirst()
        #expect(!it.isValid)
        #expect(it.error?.code == .corruption)
        #expect(it.error?.offset == meta.filter.offset)
    }

    @Test func concurrentReadersSeeTheSameData() async throws {
        let entries = sampleEntries(2000)
        let file = try build(entries, options(.zstd, blockSize: 1024))
        let table = try Table.open(
            file: ByteArrayFile(path: "shared.sst", bytes: file.bytes), fileNumber: 3, cache: BlockCache(capacity: 256 << 10))
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var bad = 0
                    for i in stride(from: task, to: entries.count, by: 3) {
                        let user = Array(InternalKey.userKey(entries[i].key))
                        if try table.get(InternalKey.lookupKey(user, maxSequenceNumber))?.value != entries[i].value { bad += 1 }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }

    @Test func entriesOverTheSizeLimitAreRefusedWithLimit() throws {
        let builder = TableBuilder(file: ByteArrayFile(), options: options())
        let huge = [UInt8](repeating: 0, count: TableFormat.maxEntrySize)
        #expect(throws: StorageError.self) { try builder.add(ikey("k", 1), huge) }
        do {
            try builder.add(ikey("k", 1), huge)
        } catch let error as StorageError {
            #expect(error.code == .limit)
        }
        try builder.add(ikey("k", 1), [UInt8](repeating: 1, count: 1 << 20))
        #expect(builder.entryCount == 1)
    }
}
