/// A table in a version: its file number, size and key range, and the CRC-32C of the whole
/// file when it was recorded as the table was written.
public struct FileMetadata: Sendable, Equatable {
    public var number: UInt64
    public var size: UInt64
    /// The smallest internal key in the table.
    public var smallest: [UInt8]
    /// The largest internal key in the table.
    public var largest: [UInt8]
    /// CRC-32C (unmasked) of the file's bytes, computed as they were written (SPEC.md §8 tag 8):
    /// backups name and copy the table without reading it. nil for tables written before
    /// manifest format 2; whoever needs it then reads the file.
    public var crc32c: UInt32?

    public init(number: UInt64, size: UInt64, smallest: [UInt8], largest: [UInt8], crc32c: UInt32? = nil) {
        self.number = number
        self.size = size
        self.smallest = smallest
        self.largest = largest
        self.crc32c = crc32c
    }
}

/// One change to the set of live tables and the database's counters: one record of the
/// manifest (SPEC.md §8). Replaying every edit of a manifest in order rebuilds the current
/// version.
///
/// Encoded as tagged fields, `varint(tag) ‖ field`, each present field once (lists repeat
/// their tag per element), in tag order. A new file's whole-file checksum, when known, follows
/// the new files as a field of its own (tag 8, naming the file by number), so an edit without
/// checksums encodes exactly as manifest format 1 did.
public struct VersionEdit: Sendable, Equatable {
    public var formatVersion: UInt32?
    public var logNumber: UInt64?
    public var nextFileNumber: UInt64?
    public var lastSequence: SequenceNumber?
    /// Where the next compaction of each level starts (an internal key).
    public var compactPointers: [(level: Int, key: [UInt8])]
    public var deletedFiles: [(level: Int, number: UInt64)]
    public var newFiles: [(level: Int, file: FileMetadata)]

    public init() {
        compactPointers = []
        deletedFiles = []
        newFiles = []
    }

    public static func == (a: VersionEdit, b: VersionEdit) -> Bool {
        a.formatVersion == b.formatVersion && a.logNumber == b.logNumber
            && a.nextFileNumber == b.nextFileNumber && a.lastSequence == b.lastSequence
            && a.compactPointers.elementsEqual(b.compactPointers) { $0.level == $1.level && $0.key == $1.key }
            && a.deletedFiles.elementsEqual(b.deletedFiles) { $0.level == $1.level && $0.number == $1.number }
            && a.newFiles.elementsEqual(b.newFiles) { $0.level == $1.level && $0.file == $1.file }
    }

    public func encode() -> [UInt8] {
        typealias Tag = ManifestFormat.Tag
        var out: [UInt8] = []
        func tag(_ t: Tag) { out.appendVarint(t.rawValue) }
        func level(_ l: Int) {
            precondition(l >= 0 && l < ManifestFormat.levelCount, "level \(l) out of range")
            out.appendVarint(l)
        }
        if let formatVersion {
            tag(.formatVersion)
            out.appendVarint(UInt64(formatVersion))
        }
        if let logNumber {
            tag(.logNumber)
            out.appendVarint(logNumber)
        }
        if let nextFileNumber {
            tag(.nextFileNumber)
            out.appendVarint(nextFileNumber)
        }
        if let lastSequence {
            precondition(lastSequence <= maxSequenceNumber)
            tag(.lastSequence)
            out.appendVarint(lastSequence)
        }
        for pointer in compactPointers {
            tag(.compactPointer)
            level(pointer.level)
            out.appendLengthPrefixed(pointer.key)
        }
        for deleted in deletedFiles {
            tag(.deletedFile)
            level(deleted.level)
            out.appendVarint(deleted.number)
        }
        for added in newFiles {
            precondition(InternalKey.isWellFormed(added.file.smallest) && InternalKey.isWellFormed(added.file.largest))
            tag(.newFile)
            level(added.level)
            out.appendVarint(added.file.number)
            out.appendVarint(added.file.size)
            out.appendLengthPrefixed(added.file.smallest)
            out.appendLengthPrefixed(added.file.largest)
        }
        for added in newFiles {
            guard let crc = added.file.crc32c else { continue }
            tag(.fileChecksum)
            out.appendVarint(added.file.number)
            out.appendFixed32(crc)
        }
        return out
    }

    /// Decodes one manifest record. `offset` is the record's offset in `file`; both are named
    /// in the `.corruption` error on any problem.
    public static func decode(_ bytes: [UInt8], file: String, offset: UInt64) throws -> VersionEdit {
        var decoder = VersionEditDecoder(bytes: bytes, file: file, offset: offset)
        return try decoder.decode()
    }
}

/// Parses the tagged fields of one edit, naming the field and byte position of any problem.
private struct VersionEditDecoder {
    var reader: ByteReader
    let file: String
    let offset: UInt64
    var edit = VersionEdit()

    init(bytes: [UInt8], file: String, offset: UInt64) {
        self.reader = ByteReader(bytes)
        self.file = file
        self.offset = offset
    }

    func corrupt(_ message: String, at position: Int) -> StorageError {
        StorageError.corruption("version edit: \(message) (byte \(position) of the edit)", file: file, offset: offset)
    }

    mutating func decode() throws -> VersionEdit {
        typealias Tag = ManifestFormat.Tag
        while !reader.isAtEnd {
            let start = reader.position
            guard let rawTag = reader.readVarint64() else { throw corrupt("truncated tag", at: start) }
            guard let tag = Tag(rawValue: rawTag) else { throw corrupt("unknown tag \(rawTag)", at: start) }
            switch tag {
            case .formatVersion:
                try once(edit.formatVersion, tag, start)
                guard let v = reader.readVarint32() else { throw corrupt("bad format version", at: start) }
                edit.formatVersion = v
            case .logNumber:
                try once(edit.logNumber, tag, start)
                edit.logNumber = try number("log number", start)
            case .nextFileNumber:
                try once(edit.nextFileNumber, tag, start)
                edit.nextFileNumber = try number("next file number", start)
            case .lastSequence:
                try once(edit.lastSequence, tag, start)
                let s = try number("last sequence", start)
                guard s <= maxSequenceNumber else { throw corrupt("last sequence \(s) exceeds 56 bits", at: start) }
                edit.lastSequence = s
            case .compactPointer:
                let l = try level(start)
                guard let key = reader.readLengthPrefixed() else { throw corrupt("truncated compact pointer", at: start) }
                edit.compactPointers.append((l, key))
            case .deletedFile:
                let l = try level(start)
                edit.deletedFiles.append((l, try number("deleted file number", start)))
            case .newFile:
                let l = try level(start)
                let number = try number("new file number", start)
                let size = try self.number("new file size", start)
                guard let smallest = reader.readLengthPrefixed(), let largest = reader.readLengthPrefixed() else {
                    throw corrupt("truncated new file key range", at: start)
                }
                guard InternalKey.isWellFormed(smallest), InternalKey.isWellFormed(largest) else {
                    throw corrupt("new file \(number) has a malformed internal key", at: start)
                }
                guard InternalKey.compare(smallest, largest) <= 0 else {
                    throw corrupt("new file \(number) has smallest key after largest key", at: start)
                }
                edit.newFiles.append((l, FileMetadata(number: number, size: size, smallest: smallest, largest: largest)))
            case .fileChecksum:
                let number = try number("checksummed file number", start)
                guard let crc = reader.readFixed32() else { throw corrupt("truncated file checksum", at: start) }
                // It describes a table this same edit adds, once.
                guard let i = edit.newFiles.firstIndex(where: { $0.file.number == number }) else {
                    throw corrupt("checksum for file \(number), which the edit does not add", at: start)
                }
                guard edit.newFiles[i].file.crc32c == nil else {
                    throw corrupt("file \(number) has two checksums", at: start)
                }
                edit.newFiles[i].file.crc32c = crc
            }
        }
        return edit
    }

    /// Single-valued fields appear at most once (the encoder never repeats them).
    func once<T>(_ existing: T?, _ tag: ManifestFormat.Tag, _ start: Int) throws {
        if existing != nil { throw corrupt("tag \(tag.rawValue) (\(tag)) appears twice", at: start) }
    }

    mutating func number(_ what: String, _ start: Int) throws -> UInt64 {
        guard let n = reader.readVarint64() else { throw corrupt("bad or truncated \(what)", at: start) }
        return n
    }

    mutating func level(_ start: Int) throws -> Int {
        guard let l = reader.readVarint64() else { throw corrupt("truncated level", at: start) }
        guard l < UInt64(ManifestFormat.levelCount) else {
            throw corrupt("level \(l) is not below \(ManifestFormat.levelCount)", at: start)
        }
        return Int(l)
    }
}
