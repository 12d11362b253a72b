import Foundation
import Testing

@testable import OsmanthusStorage

private func ikey(_ s: String, _ sequence: SequenceNumber, _ kind: ValueKind = .value) -> [UInt8] {
    InternalKey.make(Array(s.utf8), sequence, kind)
}

struct VersionEditTests {
    /// Every field of manifest format 1 (`versionedit-v1.bin`).
    static var fullEdit: VersionEdit {
        var edit = VersionEdit()
        edit.formatVersion = 1
        edit.logNumber = 12
        edit.nextFileNumber = 300
        edit.lastSequence = 1_000_000
        edit.compactPointers = [(1, ikey("m", 50)), (6, ikey("zz", 1, .deletion))]
        edit.deletedFiles = [(2, 7), (0, 9)]
        edit.newFiles = [
            (1, FileMetadata(number: 15, size: 4096, smallest: ikey("apple", 10), largest: ikey("pear", 20, .deletion))),
            (0, FileMetadata(number: 16, size: 1 << 40, smallest: ikey("a", 1), largest: ikey("a", 1))),
        ]
        return edit
    }

    /// Format 2: the same edit, with a whole-file checksum for table 15 only
    /// (`versionedit-v2.bin`).
    static var fullEditV2: VersionEdit {
        var edit = fullEdit
        edit.formatVersion = 2
        edit.newFiles[0].file.crc32c = 0x1234_5678
        return edit
    }

    @Test func emptyEditEncodesToNothing() throws {
        #expect(VersionEdit().encode().isEmpty)
        #expect(try VersionEdit.decode([], file: "MANIFEST-000001", offset: 0) == VersionEdit())
    }

    @Test func everyFieldRoundTrips() throws {
        let edit = Self.fullEdit
        let decoded = try VersionEdit.decode(edit.encode(), file: "MANIFEST-000001", offset: 0)
        #expect(decoded == edit)
        #expect(decoded.newFiles[1].file.size == 1 << 40)
    }

    @Test func eachFieldAloneRoundTrips() throws {
        var edits: [VersionEdit] = []
        var e = VersionEdit()
        e.formatVersion = UInt32.max
        edits.append(e)
        e = VersionEdit()
        e.logNumber = UInt64.max
        edits.append(e)
        e = VersionEdit()
        e.nextFileNumber = 0
        edits.append(e)
        e = VersionEdit()
        e.lastSequence = maxSequenceNumber
        edits.append(e)
        e = VersionEdit()
        e.compactPointers = [(3, [])]
        edits.append(e)
        e = VersionEdit()
        e.deletedFiles = [(6, UInt64.max)]
        edits.append(e)
        for edit in edits {
            let encoded = edit.encode()
            #expect(!encoded.isEmpty)
            #expect(try VersionEdit.decode(encoded, file: "m", offset: 0) == edit)
        }
    }

    /// The example of SPEC.md §8.
    @Test func specExampleEncodesAsDocumented() throws {
        var edit = VersionEdit()
        edit.logNumber = 12
        edit.nextFileNumber = 300
        edit.lastSequence = 1_000_000
        edit.newFiles = [
            (1, FileMetadata(number: 15, size: 4096, smallest: ikey("apple", 10), largest: ikey("pear", 20, .deletion)))
        ]
        let expected: [UInt8] = [
            0x02, 0x0C,
            0x03, 0xAC, 0x02,
            0x04, 0xC0, 0x84, 0x3D,
            0x07, 0x01, 0x0F, 0x80, 0x20,
            0x0D, 0x61, 0x70, 0x70, 0x6C, 0x65, 0x01, 0x0A, 0, 0, 0, 0, 0, 0,
            0x0C, 0x70, 0x65, 0x61, 0x72, 0x00, 0x14, 0, 0, 0, 0, 0, 0,
        ]
        #expect(edit.encode() == expected)
        #expect(try VersionEdit.decode(expected, file: "m", offset: 0) == edit)
    }

    @Test func equalityComparesEveryList() {
        let a = Self.fullEdit
        var b = a
        #expect(a == b)
        b.compactPointers[0].key = ikey("n", 50)
        #expect(a != b)
        b = a
        b.deletedFiles[1].level = 1
        #expect(a != b)
        b = a
        b.newFiles.removeLast()
        #expect(a != b)
        b = a
        b.newFiles[0].file.size += 1
        #expect(a != b)
        b = a
        b.lastSequence = nil
        #expect(a != b)
    }

    @Test func editsAreRecordsOfAManifestLog() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let path = joinPath(dir.path, "MANIFEST-000001")
        var edits = [Self.fullEdit]
        for n in 0..<20 {
            var e = VersionEdit()
            e.lastSequence = SequenceNumber(n * 100)
            e.newFiles = [(n % 7, FileMetadata(number: UInt64(n), size: 1, smallest: ikey("k", 1), largest: ikey("k", 1)))]
            edits.append(e)
        }
        let writer = LogWriter(file: try PosixFileSystem().createWritable(path))
        for edit in edits { try writer.addRecord(edit.encode()) }
        try writer.sync()
        try writer.close()

        let reader = LogReader(file: try PosixFileSystem().openReadable(path))
        var decoded: [VersionEdit] = []
        var recordStart: UInt64 = 0
        while let record = try reader.readRecord() {
            decoded.append(try VersionEdit.decode(record, file: path, offset: recordStart))
            recordStart = reader.lastRecordEnd
        }
        #expect(decoded == edits)
    }

    // MARK: Corruption

    private func expectCorruption(
        _ bytes: [UInt8], containing text: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: StorageError.self, sourceLocation: sourceLocation) {
            _ = try VersionEdit.decode(bytes, file: "MANIFEST-000007", offset: 321)
        }
        #expect(error?.code == .corruption, sourceLocation: sourceLocation)
        #expect(error?.file == "MANIFEST-000007", sourceLocation: sourceLocation)
        #expect(error?.offset == 321, sourceLocation: sourceLocation)
        if let text {
            #expect(error?.message.contains(text) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
        }
    }

    private func newFileField(level: UInt8, smallest: [UInt8], largest: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [7, level, 5, 100]
        out.appendLengthPrefixed(smallest)
        out.appendLengthPrefixed(largest)
        return out
    }

    @Test func unknownTagIsCorruption() {
        expectCorruption([2, 1, 9, 0], containing: "unknown tag 9")
        expectCorruption([0], containing: "unknown tag 0")
    }

    @Test func levelOutOfRangeIsCorruption() {
        expectCorruption([5, 7, 0], containing: "level 7")
        expectCorruption([6, 9, 1], containing: "level 9")
        expectCorruption(newFileField(level: 7, smallest: ikey("a", 1), largest: ikey("b", 1)), containing: "level 7")
        #expect(throws: Never.self) {
            _ = try VersionEdit.decode(newFileField(level: 6, smallest: ikey("a", 1), largest: ikey("b", 1)), file: "m", offset: 0)
        }
    }

    @Test func malformedInternalKeyIsCorruption() {
        expectCorruption(newFileField(level: 0, smallest: [1, 2, 3], largest: ikey("b", 1)), containing: "malformed")
        var badKind = ikey("b", 1)
        badKind[badKind.count - 8] = 9
        expectCorruption(newFileField(level: 0, smallest: ikey("a", 1), largest: badKind), containing: "malformed")
    }

    @Test func smallestAfterLargestIsCorruption() {
        expectCorruption(newFileField(level: 0, smallest: ikey("b", 1), largest: ikey("a", 1)), containing: "smallest")
        // Same user key: the newer sequence sorts first.
        expectCorruption(newFileField(level: 0, smallest: ikey("a", 1), largest: ikey("a", 2)), containing: "smallest")
    }

    @Test func repeatedSingleFieldIsCorruption() {
        expectCorruption([2, 1, 2, 1], containing: "twice")
        expectCorruption([1, 1, 1, 1], containing: "twice")
    }

    @Test func outOfRangeNumbersAreCorruption() {
        var beyond32: [UInt8] = [1]
        beyond32.appendVarint(UInt64(UInt32.max) + 1)
        expectCorruption(beyond32, containing: "format version")
        var beyond56: [UInt8] = [4]
        beyond56.appendVarint(maxSequenceNumber + 1)
        expectCorruption(beyond56, containing: "56 bits")
        expectCorruption([2] + [UInt8](repeating: 0xFF, count: 10) + [0x01], containing: "log number")
    }

    /// Cut anywhere, an edit either fails as corruption or (cut between fields) decodes to
    /// fewer fields that re-encode to exactly the prefix.
    @Test func everyTruncationIsCorruptionOrAShorterEdit() throws {
        let full = Self.fullEdit.encode()
        var corruptions = 0
        for length in 0..<full.count {
            let prefix = Array(full.prefix(length))
            do {
                let edit = try VersionEdit.decode(prefix, file: "MANIFEST-000007", offset: 9)
                #expect(edit != Self.fullEdit)
                #expect(edit.encode() == prefix)
            } catch let error as StorageError {
                #expect(error.code == .corruption)
                #expect(error.offset == 9)
                corruptions += 1
            }
        }
        // Only the empty prefix and the ends of the first 9 of the 10 fields decode.
        #expect(corruptions == full.count - 10)
    }

    // MARK: Golden file

    @Test func goldenEditDecodesToItsFields() throws {
        let golden = try GoldenFiles.bytes("versionedit-v1.bin")
        let edit = try VersionEdit.decode(golden, file: "versionedit-v1.bin", offset: 0)
        #expect(edit.formatVersion == 1)
        #expect(edit.logNumber == 12)
        #expect(edit.nextFileNumber == 300)
        #expect(edit.lastSequence == 1_000_000)
        #expect(edit.compactPointers.map(\.level) == [1, 6])
        #expect(edit.compactPointers.map(\.key) == [ikey("m", 50), ikey("zz", 1, .deletion)])
        #expect(edit.deletedFiles.map(\.level) == [2, 0])
        #expect(edit.deletedFiles.map(\.number) == [7, 9])
        #expect(edit.newFiles.map(\.level) == [1, 0])
        #expect(
            edit.newFiles.map(\.file) == [
                FileMetadata(number: 15, size: 4096, smallest: ikey("apple", 10), largest: ikey("pear", 20, .deletion)),
                FileMetadata(number: 16, size: 1 << 40, smallest: ikey("a", 1), largest: ikey("a", 1)),
            ])
        // formatVersion 1, logNumber 12, nextFileNumber 300 (AC 02), lastSequence 1,000,000 (C0 84 3D).
        #expect(Array(golden[0..<12]) == [1, 1, 2, 12, 3, 0xAC, 0x02, 4, 0xC0, 0x84, 0x3D, 5])
        // Format 1 recorded no whole-file checksums.
        #expect(edit.newFiles.map(\.file.crc32c) == [nil, nil])
    }

    @Test func goldenV2EditDecodesWithTheChecksumOfOneTable() throws {
        let golden = try GoldenFiles.bytes("versionedit-v2.bin")
        let v1 = try GoldenFiles.bytes("versionedit-v1.bin")
        // SPEC.md §8: format version 2, the v1 fields, then tag 8 for file 15.
        #expect(Array(golden.prefix(2)) == [1, 2])
        #expect(Array(golden[2..<v1.count]) == Array(v1[2...]))
        #expect(Array(golden[v1.count...]) == [8, 0x0F, 0x78, 0x56, 0x34, 0x12])
        let edit = try VersionEdit.decode(golden, file: "versionedit-v2.bin", offset: 0)
        #expect(edit.formatVersion == 2)
        #expect(edit.newFiles.map(\.file.number) == [15, 16])
        #expect(edit.newFiles.map(\.file.crc32c) == [0x1234_5678, nil])
        #expect(edit == Self.fullEditV2)
    }

    @Test func encoderReproducesTheGoldenV2Edit() throws {
        let encoded = Self.fullEditV2.encode()
        #expect(encoded == (try GoldenFiles.check("versionedit-v2.bin", encoded: encoded)))
    }

    @Test func checksumsRoundTripAndCountInEquality() throws {
        var edit = Self.fullEditV2
        edit.newFiles[1].file.crc32c = 0
        #expect(try VersionEdit.decode(edit.encode(), file: "m", offset: 0) == edit)
        var other = edit
        other.newFiles[1].file.crc32c = nil
        #expect(other != edit)
    }

    @Test func checksumOfAFileTheEditDoesNotAddIsCorruption() throws {
        var edit = VersionEdit()
        edit.newFiles = [(0, FileMetadata(number: 4, size: 10, smallest: ikey("a", 1), largest: ikey("b", 1)))]
        var bytes = edit.encode()
        bytes += [8, 5, 1, 2, 3, 4]  // file 5
        #expect {
            try VersionEdit.decode(bytes, file: "MANIFEST-000003", offset: 77)
        } throws: { e in
            let e = e as? StorageError
            return e?.code == .corruption && e?.offset == 77 && e?.message.contains("file 5") == true
        }
        // A checksum before the file it names is not allowed either.
        let before: [UInt8] = [8, 4, 1, 2, 3, 4] + edit.encode()
        #expect(throws: StorageError.self) { try VersionEdit.decode(before, file: "m", offset: 0) }
    }

    @Test func secondChecksumForOneFileIsCorruption() throws {
        var edit = VersionEdit()
        edit.newFiles = [
            (0, FileMetadata(number: 4, size: 10, smallest: ikey("a", 1), largest: ikey("b", 1), crc32c: 9))
        ]
        let bytes = edit.encode() + [8, 4, 9, 0, 0, 0]
        #expect {
            try VersionEdit.decode(bytes, file: "m", offset: 0)
        } throws: { e in
            (e as? StorageError)?.code == .corruption && "\(e)".contains("two checksums")
        }
        // Truncated: the fixed32 cut short.
        let truncated = Array(edit.encode().dropLast(1))
        #expect(throws: StorageError.self) { try VersionEdit.decode(truncated, file: "m", offset: 0) }
    }

    @Test func encoderReproducesTheGoldenEdit() throws {
        let encoded = Self.fullEdit.encode()
        #expect(encoded == (try GoldenFiles.check("versionedit-v1.bin", encoded: encoded)))
    }
}
