import Foundation
import Testing

@testable import OsmanthusStorage

/// A read-only file held in memory, so a test can try thousands of damaged variants quickly.
private final class BytesFile: ReadableFile {
    let path: String
    let bytes: [UInt8]
    init(_ bytes: [UInt8], path: String = "memory.log") {
        self.bytes = bytes
        self.path = path
    }
    var size: UInt64 { UInt64(bytes.count) }
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let start = Int(min(offset, UInt64(bytes.count)))
        return Array(bytes[start..<min(start + count, bytes.count)])
    }
    func close() {}
}

/// Everything a reader produced from one log.
private struct ReadOutcome {
    var records: [[UInt8]] = []
    /// `lastRecordEnd` after each record.
    var ends: [UInt64] = []
    var dropped: UInt64 = 0
    var error: StorageError?
}

private func readAll(_ file: ReadableFile) -> ReadOutcome {
    let reader = LogReader(file: file)
    var outcome = ReadOutcome()
    do {
        while let record = try reader.readRecord() {
            outcome.records.append(record)
            outcome.ends.append(reader.lastRecordEnd)
        }
        // The end is sticky.
        if try reader.readRecord() != nil { Issue.record("a record after the end") }
    } catch let error as StorageError {
        outcome.error = error
    } catch {
        Issue.record("unexpected error \(error)")
    }
    outcome.dropped = reader.droppedTailBytes
    return outcome
}

/// Bytes that vary with position, so a misplaced fragment cannot go unnoticed.
private func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ $0 >> 8) }
}

/// One physical record built by hand (independently of `LogWriter`).
private func physicalRecord(type: UInt8, _ payload: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.appendFixed32(CRC32C.mask(CRC32C.checksum([type] + payload)))
    out.append(UInt8(payload.count & 0xFF))
    out.append(UInt8(payload.count >> 8))
    out.append(type)
    return out + payload
}

private let blockSize = LogFormat.blockSize
private let headerSize = LogFormat.headerSize

struct LogTests {
    // MARK: Writing and reading files

    private func writeLog(_ records: [[UInt8]], in dir: TestDirectory, name: String = "000001.log") throws -> String {
        let path = joinPath(dir.path, name)
        let writer = LogWriter(file: try PosixFileSystem().createWritable(path))
        for record in records { try writer.addRecord(record) }
        try writer.close()
        return path
    }

    private func fileBytes(_ path: String) throws -> [UInt8] {
        let file = try PosixFileSystem().openReadable(path)
        return try file.readExactly(at: 0, count: Int(file.size))
    }

    private func overwrite(_ path: String, with bytes: [UInt8]) throws {
        let file = try PosixFileSystem().createWritable(path)
        try file.append(bytes)
        try file.close()
    }

    private func readFile(_ path: String) throws -> ReadOutcome {
        readAll(try PosixFileSystem().openReadable(path))
    }

    // MARK: Round trips and layout

    @Test func emptyLogHasNoRecords() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let outcome = try readFile(try writeLog([], in: dir))
        #expect(outcome.records.isEmpty)
        #expect(outcome.error == nil)
        #expect(outcome.dropped == 0)
    }

    @Test func recordsOfManySizesRoundTrip() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let room = blockSize - headerSize
        let sizes = [
            0, 1, 0, 100, room - 1, room, room + 1, blockSize, 2 * blockSize + 5, 100_000, 3, 0,
            room, room, 7, 0, 0, 65_535, 65_536, 1,
        ]
        let records = sizes.enumerated().map { pattern($0.element, seed: $0.offset) }
        let path = try writeLog(records, in: dir)
        let outcome = try readFile(path)
        #expect(outcome.error == nil)
        #expect(outcome.records == records)
        #expect(outcome.dropped == 0)
        #expect(outcome.ends.last == (try PosixFileSystem().fileSize(path)))
    }

    @Test func physicalRecordLayoutIsChecksumLengthTypePayload() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let bytes = try fileBytes(try writeLog([Array("abc".utf8)], in: dir))
        let expectedCRC = CRC32C.mask(CRC32C.checksum([1, 0x61, 0x62, 0x63]))
        #expect(bytes.count == 10)
        #expect(bytes.loadFixed32(at: 0) == expectedCRC)
        #expect(Array(bytes[4...]) == [3, 0, 1, 0x61, 0x62, 0x63])
    }

    @Test func recordThatExactlyFillsABlockLeavesNoTrailer() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = [pattern(blockSize - headerSize), [42]]
        let path = try writeLog(records, in: dir)
        let bytes = try fileBytes(path)
        #expect(bytes.count == blockSize + headerSize + 1)
        #expect(bytes[6] == LogFormat.RecordType.full.rawValue)
        #expect(bytes[blockSize + 6] == LogFormat.RecordType.full.rawValue)
        let outcome = try readFile(path)
        #expect(outcome.records == records)
        #expect(outcome.ends == [UInt64(blockSize), UInt64(blockSize + headerSize + 1)])
    }

    @Test func recordOneByteLongerThanABlockSpillsIntoALastFragment() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = [pattern(blockSize - headerSize + 1)]
        let path = try writeLog(records, in: dir)
        let bytes = try fileBytes(path)
        #expect(bytes.count == blockSize + headerSize + 1)
        #expect(bytes[6] == LogFormat.RecordType.first.rawValue)
        #expect(bytes[blockSize + 4] == 1)
        #expect(bytes[blockSize + 6] == LogFormat.RecordType.last.rawValue)
        #expect(try readFile(path).records == records)
    }

    @Test func recordSpanningThreeBlocksHasAMiddleFragment() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = [pattern(2 * blockSize)]
        let path = try writeLog(records, in: dir)
        let bytes = try fileBytes(path)
        #expect(bytes[6] == LogFormat.RecordType.first.rawValue)
        #expect(bytes[blockSize + 6] == LogFormat.RecordType.middle.rawValue)
        #expect(bytes[2 * blockSize + 6] == LogFormat.RecordType.last.rawValue)
        #expect(try readFile(path).records == records)
    }

    @Test func blockTailShorterThanAHeaderIsZeroFilled() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = [pattern(blockSize - headerSize - 5, seed: 1), [1, 2, 3]]
        let path = try writeLog(records, in: dir)
        let bytes = try fileBytes(path)
        #expect(bytes.count == blockSize + headerSize + 3)
        #expect(bytes[(blockSize - 5)..<blockSize].allSatisfy { $0 == 0 })
        #expect(bytes[blockSize + 6] == LogFormat.RecordType.full.rawValue)
        let outcome = try readFile(path)
        #expect(outcome.records == records)
        #expect(outcome.ends == [UInt64(blockSize - 5), UInt64(bytes.count)])
    }

    @Test func exactlyAHeaderLeftInABlockStartsAnEmptyFirstFragment() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = [pattern(blockSize - 2 * headerSize), [7, 8, 9], [], pattern(blockSize - 2 * headerSize - 17), []]
        let path = try writeLog(records, in: dir)
        let bytes = try fileBytes(path)
        // The second record: an empty FIRST at the end of block 0, then its LAST in block 1.
        #expect(bytes[blockSize - 3] == 0 && bytes[blockSize - 2] == 0)
        #expect(bytes[blockSize - 1] == LogFormat.RecordType.first.rawValue)
        #expect(bytes[blockSize + 6] == LogFormat.RecordType.last.rawValue)
        // The last record is empty and exactly fills the 7 bytes left in block 1.
        #expect(bytes.count == 2 * blockSize)
        #expect(bytes[2 * blockSize - 1] == LogFormat.RecordType.full.rawValue)
        let outcome = try readFile(path)
        #expect(outcome.records == records)
        #expect(outcome.dropped == 0)
    }

    @Test func flushAndSyncMakeRecordsReadableBeforeClose() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "000002.log")
        let writer = LogWriter(file: try PosixFileSystem().createWritable(path))
        try writer.addRecord([1])
        try writer.flush()
        #expect(try readFile(path).records == [[1]])
        try writer.addRecord([2, 2])
        try writer.sync()
        #expect(try readFile(path).records == [[1], [2, 2]])
        #expect(writer.file.size == 2 * UInt64(headerSize) + 3)
        try writer.close()
    }

    // MARK: Torn tails

    /// What a crash can leave at the end of a log. The base log holds A (100 bytes, offset 0),
    /// B (60,000 bytes: FIRST in block 0, LAST in block 1) and C (500 bytes, ends the file).
    enum Tear: CaseIterable, Sendable {
        case headerCut, payloadCut, checksumMismatch, firstWithoutLast, firstWithoutLastMidPayload,
            zeroFilledTail, zeroedLastRecord, garbageTail, zeroedLastRecordThenZeros
    }

    @Test(arguments: Tear.allCases)
    func tornTailIsDroppedSilently(_ tear: Tear) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let a = pattern(100, seed: 1)
        let b = pattern(60_000, seed: 2)
        let c = pattern(500, seed: 3)
        let path = try writeLog([a, b, c], in: dir)
        let clean = try fileBytes(path)
        let startC = blockSize + headerSize + (60_000 - (blockSize - 107 - headerSize))
        #expect(clean.count == startC + headerSize + 500)

        var bytes = clean
        let expected: [[UInt8]]
        switch tear {
        case .headerCut:
            bytes.removeLast(bytes.count - (startC + 3))
            expected = [a, b]
        case .payloadCut:
            bytes.removeLast(bytes.count - (startC + headerSize + 200))
            expected = [a, b]
        case .checksumMismatch:
            bytes[startC + headerSize + 250] ^= 0x10
            expected = [a, b]
        case .firstWithoutLast:
            bytes.removeLast(bytes.count - blockSize)
            expected = [a]
        case .firstWithoutLastMidPayload:
            bytes.removeLast(bytes.count - (blockSize + headerSize + 100))
            expected = [a]
        case .zeroFilledTail:
            bytes += [UInt8](repeating: 0, count: 10_000)
            expected = [a, b, c]
        case .zeroedLastRecord:
            for i in startC..<bytes.count { bytes[i] = 0 }
            expected = [a, b]
        case .garbageTail:
            var rng = SplitMix64(seed: 7)
            bytes += (0..<5_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            expected = [a, b, c]
        case .zeroedLastRecordThenZeros:
            for i in startC..<bytes.count { bytes[i] = 0 }
            bytes += [UInt8](repeating: 0, count: 40_000)
            expected = [a, b]
        }
        try overwrite(path, with: bytes)

        let outcome = try readFile(path)
        #expect(outcome.error == nil)
        #expect(outcome.records == expected)
        let lastEnd = outcome.ends.last ?? 0
        #expect(outcome.dropped > 0)
        #expect(outcome.dropped == UInt64(bytes.count) - lastEnd)
    }

    @Test func tornBlockTrailerIsDropped() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let a = pattern(blockSize - headerSize - 3)
        let path = try writeLog([a, [1]], in: dir)
        // The crash came after the padding but before the next header.
        try overwrite(path, with: Array(try fileBytes(path).prefix(blockSize)))
        let outcome = try readFile(path)
        #expect(outcome.records == [a])
        #expect(outcome.dropped == 3)
    }

    @Test func cleanLogDropsNothing() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let outcome = try readFile(try writeLog([[1], pattern(40_000), []], in: dir))
        #expect(outcome.records.count == 3)
        #expect(outcome.dropped == 0)
    }

    /// Every prefix of a small log (many short records, empty ones, one crossing the block
    /// boundary) reads as exactly the records wholly inside it, without an error.
    @Test func truncationAtEveryLengthReturnsAPrefixOfTheRecords() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        // Short records keep each torn tail short, so the reader's forward scan stays cheap.
        var records: [[UInt8]] = []
        var used = 0
        while used < blockSize - 400 {
            let record = pattern((records.count * 397) % 1_201, seed: records.count)
            records.append(record)
            used += headerSize + record.count
        }
        records += [pattern(2_000, seed: 1), [], [9], pattern(100, seed: 2), []]
        let full = try fileBytes(try writeLog(records, in: dir))
        #expect(full.count > blockSize)
        let ends = readAll(BytesFile(full)).ends
        #expect(ends.count == records.count)
        for length in 0...full.count {
            let outcome = readAll(BytesFile(Array(full.prefix(length))))
            let whole = ends.filter { $0 <= UInt64(length) }.count
            #expect(outcome.error == nil, "length \(length)")
            // The records come back in order from one log, so count and the last one suffice.
            #expect(outcome.records.count == whole, "length \(length)")
            #expect(outcome.records.last == records.prefix(whole).last, "length \(length)")
            #expect(outcome.dropped == UInt64(length) - (whole == 0 ? 0 : ends[whole - 1]), "length \(length)")
        }
    }

    // MARK: Mid-log corruption

    @Test func flippedPayloadByteWithRecordsAfterItIsCorruption() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = (0..<4).map { pattern(100, seed: $0) }
        let path = try writeLog(records, in: dir)
        var bytes = try fileBytes(path)
        let startB = 107
        bytes[startB + headerSize + 10] ^= 0x01
        try overwrite(path, with: bytes)
        let outcome = try readFile(path)
        #expect(outcome.records == [records[0]])
        #expect(outcome.error?.code == .corruption)
        #expect(outcome.error?.file == path)
        #expect(outcome.error?.offset == UInt64(startB))
    }

    @Test func flippedLengthByteWithRecordsAfterItIsCorruption() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = (0..<4).map { pattern(100, seed: $0) }
        let path = try writeLog(records, in: dir)
        var bytes = try fileBytes(path)
        bytes[107 + 4] ^= 0x40
        try overwrite(path, with: bytes)
        let outcome = try readFile(path)
        #expect(outcome.records == [records[0]])
        #expect(outcome.error?.code == .corruption)
        #expect(outcome.error?.offset == 107)
    }

    @Test func zeroedRecordInTheMiddleIsCorruption() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = (0..<3).map { pattern(100, seed: $0) }
        let path = try writeLog(records, in: dir)
        var bytes = try fileBytes(path)
        for i in 107..<214 { bytes[i] = 0 }
        try overwrite(path, with: bytes)
        let outcome = try readFile(path)
        #expect(outcome.records == [records[0]])
        #expect(outcome.error?.offset == 107)
    }

    @Test func corruptionInALaterBlockNamesItsAbsoluteOffset() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        // 50,000 bytes: FIRST in block 0, LAST (17,239 bytes) in block 1; then D and E.
        let records = [pattern(50_000), pattern(10, seed: 1), pattern(10, seed: 2)]
        let path = try writeLog(records, in: dir)
        var bytes = try fileBytes(path)
        let startD = blockSize + headerSize + (50_000 - (blockSize - headerSize))
        bytes[startD + headerSize] ^= 0xFF
        try overwrite(path, with: bytes)
        let outcome = try readFile(path)
        #expect(outcome.records == [records[0]])
        #expect(outcome.error?.offset == UInt64(startD))
    }

    @Test func damagedFirstFragmentFollowedByItsLastIsCorruption() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let records = [pattern(10), pattern(50_000, seed: 1)]
        let path = try writeLog(records, in: dir)
        var bytes = try fileBytes(path)
        bytes[17 + headerSize + 1_000] ^= 0x02
        try overwrite(path, with: bytes)
        let outcome = try readFile(path)
        #expect(outcome.records == [records[0]])
        #expect(outcome.error?.offset == 17)
    }

    @Test func errorIsRepeatedOnTheNextRead() throws {
        var bytes = physicalRecord(type: 1, [1]) + physicalRecord(type: 1, [2]) + physicalRecord(type: 1, [3])
        bytes[8 + headerSize] ^= 0x80
        let reader = LogReader(file: BytesFile(bytes))
        #expect(try reader.readRecord() == [1])
        for _ in 0..<2 {
            let error = #expect(throws: StorageError.self) { try reader.readRecord() }
            #expect(error?.offset == 8)
        }
    }

    // MARK: Intact records that make no sense

    @Test func unknownRecordTypeIsCorruption() {
        let bytes = physicalRecord(type: 1, [1, 2]) + physicalRecord(type: 9, [3, 4])
        let outcome = readAll(BytesFile(bytes, path: "x.log"))
        #expect(outcome.records == [[1, 2]])
        #expect(outcome.error?.code == .corruption)
        #expect(outcome.error?.file == "x.log")
        #expect(outcome.error?.offset == 9)
    }

    @Test func zeroTypeWithAValidChecksumIsCorruption() {
        let outcome = readAll(BytesFile(physicalRecord(type: 0, [])))
        #expect(outcome.error?.offset == 0)
    }

    @Test func middleFragmentWithoutAFirstIsCorruption() {
        let bytes = physicalRecord(type: 1, [1]) + physicalRecord(type: 3, [2]) + physicalRecord(type: 4, [3])
        let outcome = readAll(BytesFile(bytes))
        #expect(outcome.records == [[1]])
        #expect(outcome.error?.offset == 8)
    }

    @Test func lastFragmentWithoutAFirstIsCorruption() {
        let outcome = readAll(BytesFile(physicalRecord(type: 4, [3])))
        #expect(outcome.records.isEmpty)
        #expect(outcome.error?.code == .corruption)
        #expect(outcome.error?.offset == 0)
    }

    @Test func firstFragmentInterruptedByAFullRecordIsCorruption() {
        let bytes = physicalRecord(type: 1, [1]) + physicalRecord(type: 2, [2]) + physicalRecord(type: 1, [3])
        let outcome = readAll(BytesFile(bytes))
        #expect(outcome.records == [[1]])
        #expect(outcome.error?.offset == 8)
    }

    @Test func firstFragmentInterruptedByAnotherFirstIsCorruption() {
        let bytes = physicalRecord(type: 2, [1]) + physicalRecord(type: 2, [2]) + physicalRecord(type: 4, [3])
        let outcome = readAll(BytesFile(bytes))
        #expect(outcome.records.isEmpty)
        #expect(outcome.error?.offset == 0)
    }

    @Test func handBuiltFragmentsAssemble() {
        let bytes = physicalRecord(type: 2, [1]) + physicalRecord(type: 3, []) + physicalRecord(type: 3, [2])
            + physicalRecord(type: 4, [3])
        let outcome = readAll(BytesFile(bytes))
        #expect(outcome.error == nil)
        #expect(outcome.records == [[1, 2, 3]])
    }

    // MARK: Golden file

    /// `Golden/log-v1.log`: four records written by `LogWriter` (format version 1).
    static let goldenRecords: [[UInt8]] = [
        [],
        Array("osmanthus".utf8),
        (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) },
        Array("end".utf8),
    ]

    @Test func goldenLogDecodesToItsRecords() throws {
        let bytes = try GoldenFiles.bytes("log-v1.log")
        let outcome = readAll(BytesFile(bytes, path: "log-v1.log"))
        #expect(outcome.error == nil)
        #expect(outcome.records == Self.goldenRecords)
        #expect(outcome.dropped == 0)
        // Layout: FULL(0) at 0, FULL(9) at 7, FIRST(32,738) at 23, LAST(7,262) at 32,768,
        // FULL(3) at 40,037; 40,047 bytes in all.
        #expect(bytes.count == 40_047)
        #expect(Array(bytes[0..<7]) == [0x05, 0x2B, 0x28, 0x43, 0, 0, 1])  // masked CRC-32C of the type byte 01
        #expect(Array(bytes[11..<14]) == [9, 0, 1])
        #expect(Array(bytes[27..<30]) == [0xE2, 0x7F, 2])
        #expect(Array(bytes[32_772..<32_775]) == [0x5E, 0x1C, 4])
        #expect(Array(bytes[40_041..<40_047]) == [3, 0, 1, 0x65, 0x6E, 0x64])
        #expect(outcome.ends == [7, 23, 40_037, 40_047])
    }

    @Test func writerReproducesTheGoldenLog() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let encoded = try fileBytes(try writeLog(Self.goldenRecords, in: dir))
        #expect(encoded == (try GoldenFiles.check("log-v1.log", encoded: encoded)))
    }
}
