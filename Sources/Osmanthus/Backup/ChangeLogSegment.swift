import OsmanthusStorage

/// One archived stretch of the change log (SPEC.md §14.9): every change record whose commit
/// sequence lies in `from...through`, in commit order. Changing a constant here changes the format.
///
/// ```
/// segment = header record* footer
/// header  = "OSMCLSG1" ‖ fixed64(from) ‖ fixed64(through) ‖ fixed64(archivedAtMillis) ‖ fixed32(count)
/// record  = fixed64(sequence) ‖ fixed32(length) ‖ value[length]     (value: the record's BSON, §16.2)
/// footer  = fixed32(masked crc32c of every byte before it)
/// ```
struct ChangeLogSegment: Sendable, Equatable {
    static let magic: [UInt8] = Array("OSMCLSG1".utf8)
    static let headerSize = 8 + 8 + 8 + 8 + 4
    /// `<repo>/changelog/`: the segments, named `<from>-<through>.seg` (20 decimal digits each).
    static let directory = "changelog"
    static let suffix = ".seg"
    /// `<repo>/changelog/HEAD`: fixed64(through) ‖ fixed64(checkedAtMillis) ‖ fixed32(masked crc32c).
    static let headName = "HEAD"

    struct Record: Sendable, Equatable {
        var sequence: SequenceNumber
        var value: [UInt8]
    }

    /// Every record with a sequence in `from...through` is in `records` (there may be none).
    var from: SequenceNumber
    var through: SequenceNumber
    /// Wall clock (ms) when the archiver read the log: nothing committed at or before this
    /// instant has a sequence above `through`.
    var archivedAtMillis: Int64
    var records: [Record]

    static func fileName(from: SequenceNumber, through: SequenceNumber) -> String {
        pad(from) + "-" + pad(through) + suffix
    }

    private static func pad(_ n: UInt64) -> String {
        let d = String(n)
        return String(repeating: "0", count: max(0, 20 - d.count)) + d
    }

    /// `(from, through)` of a segment file name; nil for other names (temporary files).
    static func parseName(_ name: String) -> (SequenceNumber, SequenceNumber)? {
        guard name.hasSuffix(suffix) else { return nil }
        let parts = name.dropLast(suffix.count).split(separator: "-")
        guard parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b else { return nil }
        return (a, b)
    }

    func encoded() -> [UInt8] {
        var out = Self.magic
        out.appendFixed64(from)
        out.appendFixed64(through)
        out.appendFixed64(UInt64(bitPattern: archivedAtMillis))
        out.appendFixed32(UInt32(records.count))
        for r in records {
            out.appendFixed64(r.sequence)
            out.appendFixed32(UInt32(r.value.count))
            out.append(contentsOf: r.value)
        }
        out.appendFixed32(CRC32C.mask(CRC32C.checksum(out)))
        return out
    }

    /// Decodes and checks a whole segment; `file` names it in the error.
    init(decoding bytes: [UInt8], file: String) throws {
        func damaged(_ why: String, _ offset: Int? = nil) -> StorageError {
            StorageError.corruption("change-log segment \(why)", file: file, offset: offset.map { UInt64($0) })
        }
        guard bytes.count >= Self.headerSize + 4, Array(bytes.prefix(8)) == Self.magic else {
            throw damaged("is truncated or has a bad magic", 0)
        }
        var reader = ByteReader(bytes, from: 0, to: bytes.count - 4)
        let stored = bytes.loadFixed32(at: bytes.count - 4)
        guard CRC32C.unmask(stored) == CRC32C.checksum(bytes[..<(bytes.count - 4)]) else {
            throw damaged("checksum mismatch", bytes.count - 4)
        }
        _ = reader.readBytes(8)
        guard let from = reader.readFixed64(), let through = reader.readFixed64(),
            let at = reader.readFixed64(), let count = reader.readFixed32()
        else { throw damaged("header is truncated", 8) }
        self.from = from
        self.through = through
        archivedAtMillis = Int64(bitPattern: at)
        records = []
        for _ in 0..<count {
            guard let seq = reader.readFixed64(), let len = reader.readFixed32(), let value = reader.readBytes(Int(len)),
                seq >= from, seq <= through, seq > (records.last?.sequence ?? 0)
            else { throw damaged("record \(records.count) is malformed") }
            records.append(Record(sequence: seq, value: value))
        }
        guard reader.isAtEnd else { throw damaged("has bytes after its last record", reader.position) }
    }

    init(from: SequenceNumber, through: SequenceNumber, archivedAtMillis: Int64, records: [Record]) {
        self.from = from
        self.through = through
        self.archivedAtMillis = archivedAtMillis
        self.records = records
    }
}
