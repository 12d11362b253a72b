import Testing

@testable import OsmanthusStorage

/// Damaged files under a closed database (leveldb's `db/corruption_test.cc`): every damage is
/// either reported as `.corruption` naming the file (and offset where it is known), or, for a
/// torn log tail, cut off, keeping every record before it. Never a crash, never wrong data.
struct CorruptionTests {
    static let path = "/db"

    /// A closed database in memory: 300 keys in an older table, the same keys overwritten
    /// (every seventh deleted) in a newer one, and 40 more keys only in the log.
    struct Fixture {
        let fs: MemFileSystem
        /// What a correct database holds.
        let expected: [[UInt8]: [UInt8]]
        /// Table paths, newest first.
        let tables: [String]

        var logs: [String] { files(ending: ".log") }
        var manifest: String { files(ending: "").first { $0.contains("MANIFEST-") } ?? "" }

        func files(ending suffix: String) -> [String] {
            ((try? fs.listDirectory(CorruptionTests.path)) ?? []).filter { $0.hasSuffix(suffix) }.map {
                joinPath(CorruptionTests.path, $0)
            }
        }
    }

    static func options(_ fs: any FileSystem) -> Options { smallOptions(fs, background: false) }

    static func makeFixture() throws -> Fixture {
        let fs = MemFileSystem()
        let db = try DB.open(at: path, options: options(fs))
        var expected: [[UInt8]: [UInt8]] = [:]
        for i in 0..<300 { try db.put(key("t", i), value("old", i)) }
        try db.flush()
        for i in 0..<300 {
            if i % 7 == 0 {
                try db.delete(key("t", i))
            } else {
                try db.put(key("t", i), value("new", i))
                expected[key("t", i)] = value("new", i)
            }
        }
        try db.flush()
        for i in 0..<40 {
            try db.put(key("l", i), value("log", i))
            expected[key("l", i)] = value("log", i)
        }
        let version = db.monitor.withLock { db.versions.current }
        try db.close()
        let tables = version.levels[0].map { DBFiles.table(path, $0.number) }
        #expect(tables.count == 2)
        return Fixture(fs: fs, expected: expected, tables: tables)
    }

    static func key(_ prefix: String, _ i: Int) -> [UInt8] { Array("\(prefix)\(format5(i))".utf8) }
    static func value(_ tag: String, _ i: Int) -> [UInt8] {
        Array("\(tag)-\(i)-".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 60 + i % 50)
    }

    // MARK: Tables

    enum Region: String, CaseIterable, Sendable { case data, filter, index, footer }

    /// Offsets in each region of a table: its first, a middle and its last byte.
    static func offsets(in region: Region, ofTable bytes: [UInt8], path: String) throws -> [Int] {
        let footerOffset = bytes.count - TableFormat.footerSize
        let (filter, index) = try Table.decodeFooter(
            Array(bytes[footerOffset...]), file: path, offset: UInt64(footerOffset))
        func spread(_ start: Int, _ end: Int) -> [Int] { [start, (start + end) / 2, end - 1] }
        let trailer = TableFormat.blockTrailerSize
        switch region {
        case .data: return spread(0, Int(filter.offset))
        case .filter: return spread(Int(filter.offset), Int(filter.offset + filter.size) + trailer)
        case .index: return spread(Int(index.offset), Int(index.offset + index.size) + trailer)
        case .footer: return [footerOffset, footerOffset + 40, footerOffset + 44, bytes.count - 1]
        }
    }

    /// A flipped byte anywhere in a table: the database opens (tables open lazily); a get
    /// returns the right value or `.corruption` naming the table; a scan yields only right
    /// entries and ends with that error; compaction fails with it.
    @Test(arguments: Region.allCases, [0, 1])
    func flippedTableByteIsReportedAsCorruptionNamingTheTable(region: Region, table: Int) throws {
        let fixture = try Self.makeFixture()
        let target = fixture.tables[table]
        let original = try readFile(fixture.fs, target)
        for offset in try Self.offsets(in: region, ofTable: original, path: target) {
            let context = "\(region) byte \(offset) of \(target)"
            let fs = copyFileSystem(fixture.fs)
            try flipByte(fs, target, at: offset)
            let db = try DB.open(at: Self.path, options: Self.options(fs))
            defer { try? db.close() }

            var failedGets = 0
            for i in 0..<300 {
                do {
                    let got = try db.get(Self.key("t", i))
                    #expect(got == fixture.expected[Self.key("t", i)], "\(context)")
                } catch let e as StorageError {
                    #expect(e.code == .corruption && e.file == target && e.offset != nil, "\(e) [\(context)]")
                    failedGets += 1
                }
            }
            // The newer table answers every key before the older one is read.
            if table == 0 { #expect(failedGets > 0, "\(context)") }
            if table == 0 && region != .data { #expect(failedGets == 300, "\(context)") }

            let it = db.makeIterator()
            it.seekToFirst()
            while it.isValid {
                let key = String(decoding: it.key, as: UTF8.self)
                #expect(fixture.expected[it.key] == it.value, "scan: \(key) [\(context)]")
                it.next()
            }
            #expect(
                it.error?.code == .corruption && it.error?.file == target && it.error?.offset != nil,
                "\(String(describing: it.error)) [\(context)]")

            do {
                try db.compactRange()
                Issue.record("compactRange read the damaged table without an error [\(context)]")
            } catch let e as StorageError {
                #expect(e.code == .corruption && e.file == target, "\(e) [\(context)]")
            }
        }
    }

    /// A table the manifest lists is gone: open fails naming it.
    @Test func missingTableFailsOpenNamingIt() throws {
        let fixture = try Self.makeFixture()
        try fixture.fs.removeFile(fixture.tables[1])
        let error = openError(fixture.fs)
        #expect(error?.code == .corruption && error?.file == fixture.tables[1], "\(String(describing: error))")
    }

    /// The log the manifest names as live is gone (its writes with it): open fails naming it.
    @Test func missingLiveLogFailsOpenNamingIt() throws {
        let fixture = try Self.makeFixture()
        let logs = fixture.logs
        #expect(logs.count == 1)
        for log in logs { try fixture.fs.removeFile(log) }
        let error = openError(fixture.fs)
        #expect(error?.code == .corruption && error?.file == logs.first, "\(String(describing: error))")
    }

    // MARK: Logs

    /// The log of `fixture` and where each of its records starts and ends.
    static func logRecords(_ fs: MemFileSystem, _ log: String) throws -> [Range<Int>] {
        let reader = LogReader(file: try fs.openReadable(log))
        var records: [Range<Int>] = []
        var start = 0
        while try reader.readRecord() != nil {
            records.append(start..<Int(reader.lastRecordEnd))
            start = Int(reader.lastRecordEnd)
        }
        return records
    }

    /// A flipped byte in a log record with intact records after it cannot be a torn write:
    /// open fails naming the log and the damaged record's offset.
    @Test(arguments: [0, 4, 6, 9])
    func flippedLogByteBeforeIntactRecordsFailsOpenNamingLogAndOffset(byteInRecord: Int) throws {
        let fixture = try Self.makeFixture()
        let log = try #require(fixture.logs.first { (try? readFile(fixture.fs, $0).count) ?? 0 > 0 })
        let records = try Self.logRecords(fixture.fs, log)
        #expect(records.count == 40)
        let fs = copyFileSystem(fixture.fs)
        try flipByte(fs, log, at: records[20].lowerBound + byteInRecord)
        let error = openError(fs)
        #expect(error?.code == .corruption, "\(String(describing: error))")
        #expect(error?.file == log)
        #expect(error?.offset == UInt64(records[20].lowerBound))
    }

    /// A log cut anywhere (a crash during an append) opens with every record before the cut.
    @Test func truncatedLogKeepsEveryRecordBeforeTheCut() throws {
        let fs = MemFileSystem()
        var o = Self.options(fs)
        o.memtableSize = 4 << 20
        let db = try DB.open(at: Self.path, options: o)
        // 3 KB values: records cross the log's 32 KiB blocks as FIRST/MIDDLE/LAST fragments.
        for i in 0..<40 { try db.put(Self.key("k", i), [UInt8](repeating: UInt8(i), count: 3000 + i)) }
        try db.close()
        let name = try #require(try fs.listDirectory(Self.path).first { $0.hasSuffix(".log") })
        let log = joinPath(Self.path, name)
        let records = try Self.logRecords(fs, log)
        #expect(records.count == 40)
        let full = try readFile(fs, log)
        var cuts: Set<Int> = [0, 3, full.count - 1, 32768, 32769, 32768 + 3]
        for r in records.prefix(12) {
            cuts.formUnion([r.lowerBound + 3, r.lowerBound + 7, r.lowerBound + 100, r.upperBound - 1, r.upperBound])
        }
        for cut in cuts.sorted() where cut <= full.count {
            let copy = copyFileSystem(fs)
            try writeFile(copy, log, Array(full[..<cut]))
            let kept = records.filter { $0.upperBound <= cut }.count
            let reopened = try DB.open(at: Self.path, options: Self.options(copy))
            for i in 0..<40 {
                let got = try reopened.get(Self.key("k", i))
                #expect((got != nil) == (i < kept), "cut at \(cut): key \(i), \(kept) records kept")
            }
            try reopened.close()
        }
    }

    // MARK: Manifest and CURRENT

    /// A flipped byte in a manifest record with intact records after it fails open naming
    /// the manifest. In its last record (what a torn write looks like) the database either
    /// reports corruption or opens with a state that has lost nothing.
    @Test func flippedManifestByteFailsOpenNamingTheManifest() throws {
        let fixture = try Self.makeFixture()
        let manifest = fixture.manifest
        let records = try Self.logRecords(fixture.fs, manifest)
        #expect(records.count >= 3)
        for (n, record) in records.enumerated() {
            for offset in [record.lowerBound, record.lowerBound + 8, record.upperBound - 1] {
                let fs = copyFileSystem(fixture.fs)
                try flipByte(fs, manifest, at: offset)
                let context = "record \(n) of \(records.count), byte \(offset)"
                if n < records.count - 1 {
                    let error = openError(fs)
                    #expect(
                        error?.code == .corruption && error?.file == manifest,
                        "\(String(describing: error)) [\(context)]")
                    continue
                }
                do {
                    let db = try DB.open(at: Self.path, options: Self.options(fs))
                    defer { try? db.close() }
                    try expectHolds(db, fixture.expected, context)
                } catch let e as StorageError {
                    #expect(e.code == .corruption && e.file == manifest, "\(e) [\(context)]")
                }
            }
        }
    }

    /// A manifest record cut short at the end (a crash while an edit was appended, before it
    /// took effect) is dropped: the database opens with everything.
    @Test(arguments: [1, 7, 12])
    func tornManifestTailOpensWithTheStateBeforeIt(keptBytes: Int) throws {
        let fixture = try Self.makeFixture()
        let manifest = fixture.manifest
        let bytes = try readFile(fixture.fs, manifest)
        let last = try #require(try Self.logRecords(fixture.fs, manifest).last)
        // The start of a copy of the last record, as if a later edit was being written.
        try writeFile(fixture.fs, manifest, bytes + bytes[last].prefix(keptBytes))
        let db = try DB.open(at: Self.path, options: Self.options(fixture.fs))
        try expectHolds(db, fixture.expected, "torn manifest tail of \(keptBytes) bytes")
        try db.close()
    }

    @Test(arguments: ["", "MANIFEST-000001", "garbage\n", "MANIFEST-99999\n", "MANIFEST-\n"])
    func damagedCurrentFailsOpenNamingIt(contents: String) throws {
        let fixture = try Self.makeFixture()
        try writeFile(fixture.fs, DBFiles.current(Self.path), Array(contents.utf8))
        let error = openError(fixture.fs)
        #expect(error?.code == .corruption && error?.file == DBFiles.current(Self.path), "\(String(describing: error))")
    }

    /// The undamaged fixture opens with everything (the baseline of the tests above).
    @Test func undamagedFixtureOpensWithEverything() throws {
        let fixture = try Self.makeFixture()
        let db = try DB.open(at: Self.path, options: Self.options(fixture.fs))
        try expectHolds(db, fixture.expected, "undamaged")
        try db.compactRange()
        try expectHolds(db, fixture.expected, "compacted")
        try db.close()
    }

    // MARK: Helpers

    func openError(_ fs: any FileSystem) -> StorageError? {
        do {
            let db = try DB.open(at: Self.path, options: Self.options(fs))
            try? db.close()
            return nil
        } catch {
            return error as? StorageError
        }
    }

    func expectHolds(_ db: DB, _ expected: [[UInt8]: [UInt8]], _ context: String) throws {
        var seen = 0
        let it = db.makeIterator()
        it.seekToFirst()
        while it.isValid {
            #expect(expected[it.key] == it.value, "\(String(decoding: it.key, as: UTF8.self)) [\(context)]")
            seen += 1
            it.next()
        }
        #expect(it.error == nil, "\(String(describing: it.error)) [\(context)]")
        #expect(seen == expected.count, "\(seen) of \(expected.count) keys [\(context)]")
    }
}

// MARK: Byte editing (MemFileSystem)

func readFile(_ fs: any FileSystem, _ path: String) throws -> [UInt8] {
    let file = try fs.openReadable(path)
    defer { file.close() }
    return try file.read(at: 0, count: Int(file.size))
}

func writeFile(_ fs: any FileSystem, _ path: String, _ bytes: [UInt8]) throws {
    let file = try fs.createWritable(path)
    try file.append(bytes)
    try file.sync()
    try file.close()
}

func flipByte(_ fs: any FileSystem, _ path: String, at offset: Int) throws {
    var bytes = try readFile(fs, path)
    bytes[offset] ^= 0x20
    try writeFile(fs, path, bytes)
}

/// A copy of every file under `CorruptionTests.path`, so each case damages its own copy.
func copyFileSystem(_ fs: MemFileSystem) -> MemFileSystem {
    let copy = MemFileSystem()
    try? copy.createDirectory(CorruptionTests.path)
    for name in (try? fs.listDirectory(CorruptionTests.path)) ?? [] {
        let path = joinPath(CorruptionTests.path, name)
        if let bytes = try? readFile(fs, path) { try? writeFile(copy, path, bytes) }
    }
    return copy
}
