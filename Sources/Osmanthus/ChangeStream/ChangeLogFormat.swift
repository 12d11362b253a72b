import OsmanthusBSON
import OsmanthusStorage

/// The change log's keys (SPEC.md §16). Changing a constant here changes the on-disk format.
///
/// ```
/// change record:     0x20 ‖ u64be(commit sequence)  → record (see ChangeRecord+Encoding)
/// retention setting: 0x21 ‖ utf8(database name)     → {maxAgeSeconds, maxBytes, trimmedThrough, trimmedTime}
///
/// record (version 2) = u8(2) ‖ u8(operation) ‖ u8(flags) ‖ u8(0xFF) ‖ fixed64(wall ms)
///                      ‖ str(db) [str(coll)] [str(engine key)] [dk] [doc] [pre] [ud] [str(to db) str(to coll)]
/// record (version 3) = as version 2 with u8(3) first, operations 8–11 and flag bit 7: [desc]
/// str = varint(length) ‖ bytes; dk, doc, pre, ud, desc = BSON documents as they are
/// ```
/// A writer uses version 2 for every record version 2 can hold, so logs stay readable by
/// the previous release unless expanded (catalog) events were written.
enum ChangeLogFormat {
    /// The first byte of a version 2 record.
    static let version: UInt8 = 2
    /// The first byte of a version 3 record: one with an expanded (catalog) operation or an
    /// `operationDescription`.
    static let version3: UInt8 = 3
    /// The fourth byte of a version 2 record. Read as a version 1 record's BSON length, the
    /// first four bytes are then negative, so the two versions are never confused.
    static let marker: UInt8 = 0xFF
    static let headerSize = 12

    /// Which optional fields a record holds (the header's flags byte).
    enum Flag {
        static let collection: UInt8 = 1 << 0
        static let engineKey: UInt8 = 1 << 1
        static let documentKey: UInt8 = 1 << 2
        static let fullDocument: UInt8 = 1 << 3
        static let preImage: UInt8 = 1 << 4
        static let updateDescription: UInt8 = 1 << 5
        static let renameTarget: UInt8 = 1 << 6
        /// Version 3 only.
        static let operationDescription: UInt8 = 1 << 7
    }

    /// A version 2 or 3 record (the binary layout); otherwise a version 1 BSON record.
    static func isVersion2(_ value: [UInt8]) -> Bool {
        value.count >= headerSize && (value[0] == version || value[0] == version3) && value[3] == marker
    }

    /// The stamped prefix of every change record; the engine appends the record's sequence.
    static let recordPrefix: [UInt8] = [KeyFormat.Space.changeLog.rawValue]
    static let recordKeySize = 9

    static func recordKey(_ sequence: SequenceNumber) -> [UInt8] {
        var key = recordPrefix
        for shift in stride(from: 56, through: 0, by: -8) { key.append(UInt8(truncatingIfNeeded: sequence >> UInt64(shift))) }
        return key
    }

    /// The sequence of a record key; nil for a key outside the log.
    static func sequence(ofKey key: [UInt8]) -> SequenceNumber? {
        guard key.count == recordKeySize, key[0] == recordPrefix[0] else { return nil }
        var s: UInt64 = 0
        for i in 1..<9 { s = s << 8 | UInt64(key[i]) }
        return s
    }

    static func retentionKey(_ database: String) -> [UInt8] {
        [KeyFormat.Space.changeLogRetention.rawValue] + Array(database.utf8)
    }

    /// A record's cluster time: the wall-clock second it was written in, and the low 32 bits of
    /// its sequence as the ordinal (unique, increasing within the second).
    static func clusterTime(wallMillis: Int64, sequence: SequenceNumber) -> BSONValue {
        .timestamp(increment: UInt32(truncatingIfNeeded: sequence), seconds: UInt32(clamping: max(0, wallMillis / 1000)))
    }
}
