import Testing

@testable import OsmanthusStorage

/// Spliced write batch records (SPEC.md §5, kind 0x02: `head ‖ the value of an earlier record`)
/// through the engine: the WAL holds them compactly, the memtable, tables and reads see whole
/// values, replay expands them, and a log whose reference is bad fails open as corruption.
struct SplicedRecordTests {
    static let path = "/db"
    static let prefix: UInt8 = 0x20

    static func options(_ fs: any FileSystem, memtable: Int = 4 << 20) -> Options {
        var o = smallOptions(fs, background: false)
        o.memtableSize = memtable
        return o
    }

    /// Deterministic bytes: `n` of them, from `seed`.
    static func bytes(_ seed: Int, _ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ 3) }
    }

    /// `count` batches, each a put of document `i` followed by a stamped record spliced from it
    /// (what the change log writes for an insert); returns each record's expected value.
    static func writeInserts(_ db: DB, count: Int, from first: Int = 0) throws -> [[UInt8]] {
        var expected: [[UInt8]] = []
        for i in first..<(first + count) {
            let doc = bytes(i, 40 + i % 300)
            let head = bytes(i + 1000, i % 90)
            var batch = WriteBatch()
            batch.put(Array("doc\(i)".utf8), doc)
            head.withUnsafeBytes { batch.putStampedSplicingPrevious(prefix, head: $0) }
            try db.write(batch)
            expected.append(head + doc)
        }
        return expected
    }

    /// The stamped records' values in key (commit) order.
    static func stampedValues(_ db: DB) -> [[UInt8]] {
        let it = db.makeIterator()
        it.seek([prefix])
        var values: [[UInt8]] = []
        while it.isValid, it.key.first == prefix {
            values.append(Array(it.value))
            it.next()
        }
        return values
    }

    @Test func splicedRecordsReadWholeBeforeAndAfterReopen() throws {
        let fs = MemFileSystem()
        let db = try DB.open(at: Self.path, options: Self.options(fs))
        let expected = try Self.writeInserts(db, count: 200)
        #expect(Self.stampedValues(db) == expected)
        #expect(try db.get(Array("doc7".utf8)) == Self.bytes(7, 47))
        try db.close()
        // Only the log holds them: replay expands every spliced record.
        let reopened = try DB.open(at: Self.path, options: Self.options(fs))
        #expect(Self.stampedValues(reopened) == expected)
        #expect(try reopened.get(Array("doc199".utf8)) == Self.bytes(199, 40 + 199))
        try reopened.close()
    }

    @Test func flushedTablesHoldWholeValues() throws {
        let fs = MemFileSystem()
        // A 64 KiB memtable: most records reach tables through flushes.
        let db = try DB.open(at: Self.path, options: Self.options(fs, memtable: 64 << 10))
        let expected = try Self.writeInserts(db, count: 400)
        try db.flush()
        #expect(Self.stampedValues(db) == expected)
        try db.close()
        let reopened = try DB.open(at: Self.path, options: Self.options(fs, memtable: 64 << 10))
        #expect(Self.stampedValues(reopened) == expected)
        try reopened.close()
    }

    /// The point of the format: the log carries each document once.
    @Test func theLogCarriesTheSplicedValueOnce() throws {
        func logBytes(spliced: Bool) throws -> UInt64 {
            let fs = MemFileSystem()
            let db = try DB.open(at: Self.path, options: Self.options(fs))
            for i in 0..<100 {
                let doc = Self.bytes(i, 1000)
                var batch = WriteBatch()
                batch.put(Array("doc\(i)".utf8), doc)
                if spliced {
                    [UInt8](repeating: 9, count: 30).withUnsafeBytes { batch.putStampedSplicingPrevious(Self.prefix, head: $0) }
                } else {
                    batch.putStamped([Self.prefix], [UInt8](repeating: 9, count: 30) + doc)
                }
                try db.write(batch)
            }
            let bytes = db.statistics.value(.walBytes)
            try db.close()
            return bytes
        }
        let plain = try logBytes(spliced: false)
        let spliced = try logBytes(spliced: true)
        // Each record: the 1,000 document bytes gone; the value's 2-byte length (1,030) became a
        // 1-byte source and the head's 1-byte length (30).
        #expect(plain - spliced == 100 * 1000)
    }

    // MARK: Logs written by hand

    /// A closed, empty database whose one log is then replaced by `records` (write batches).
    /// Returns the file system, the log's path and where each record starts.
    static func databaseWithLog(_ records: [[UInt8]]) throws -> (MemFileSystem, String, [UInt64]) {
        let fs = MemFileSystem()
        try DB.open(at: path, options: options(fs)).close()
        let logs = try fs.listDirectory(path).filter { $0.hasSuffix(".log") }
        #expect(logs.count == 1)
        let log = joinPath(path, try #require(logs.first))
        let writer = LogWriter(file: try fs.createWritable(log))
        var offsets: [UInt64] = []
        var offset: UInt64 = 0
        for record in records {
            offsets.append(offset)
            try writer.addRecord(record)
            offset += UInt64(LogFormat.headerSize + record.count)  // small records: one fragment each
        }
        try writer.sync()
        try writer.close()
        return (fs, log, offsets)
    }

    /// A log of format 1 (the golden batch of SPEC.md §5, no spliced records) still replays.
    @Test func formatOneLogReplays() throws {
        let golden = try GoldenFiles.bytes("writebatch-v1.bin")
        let (fs, _, _) = try Self.databaseWithLog([golden])
        let db = try DB.open(at: Self.path, options: Self.options(fs))
        #expect(try db.get(Array("apple".utf8)) == Array("red".utf8))
        #expect(try db.get(Array("banana".utf8)) == nil)
        #expect(try db.get(Array("cherry".utf8)) == [UInt8](repeating: 0x63, count: 200))
        #expect(try db.get(Array("date".utf8)) == [])
        try db.close()
    }

    /// A format 2 log (the golden spliced batch) replays to its expanded values.
    @Test func formatTwoGoldenLogReplays() throws {
        let golden = try GoldenFiles.bytes("writebatch-v2.bin")
        let (fs, _, _) = try Self.databaseWithLog([golden])
        let db = try DB.open(at: Self.path, options: Self.options(fs))
        #expect(try db.get([0x20, 0, 0, 0, 0, 0, 0, 0, 0x2B]) == Array("ins:{doc}".utf8))
        #expect(try db.get(Array("copy".utf8)) == Array("{doc}".utf8))
        #expect(try db.get(Array("gone".utf8)) == nil)
        #expect(try db.get(Array("again".utf8)) == Array("{doc}".utf8))
        try db.close()
    }

    /// A spliced record whose source is out of range, a deletion or another spliced record:
    /// with intact log records around it, open fails naming the log and the record's offset.
    @Test(arguments: [0, 2, 3])
    func badSpliceReferenceInTheLogFailsOpenNamingLogAndOffset(source: UInt8) throws {
        var good = WriteBatch()
        good.sequence = 1
        good.put([1], [1])
        // Records: 0 put, 1 delete, 2 spliced from record 0 (source 2: fine), 3 spliced with
        // `source` (0: none; 2: the deletion; 3: record 0, a value — the control).
        var bad: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0]
        bad += [1, 1, 0x61, 2, 0x76, 0x76]  // put "a" -> "vv"
        bad += [0, 1, 0x62]  // delete "b"
        bad += [2, 1, 0x63, 2, 1, 0x68]  // "c" -> "h" ‖ record 0's value
        bad += [2, 1, 0x64, source, 0]  // "d" -> "" ‖ record (3 - source)'s value
        var after = WriteBatch()
        after.sequence = 10
        after.put([2], [2])
        let (fs, log, offsets) = try Self.databaseWithLog([good.encoded, bad, after.encoded])
        do {
            let db = try DB.open(at: Self.path, options: Self.options(fs))
            defer { try? db.close() }
            #expect(source == 3, "source \(source) opened")
            #expect(try db.get([0x63]) == Array("hvv".utf8))
            #expect(try db.get([0x64]) == Array("vv".utf8))
        } catch let error as StorageError {
            #expect(source != 3, "\(error)")
            #expect(error.code == .corruption)
            #expect(error.file == log)
            #expect(error.offset == offsets[1])
            #expect(error.message.contains("spliced record 3"), "\(error.message)")
        }
    }
}
