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
/// record (version 4) = u8(4) ‖ u8(operation) ‖ u8(flags) ‖ u8(0xFF) ‖ fixed64(wall ms) ‖ u8(flags2)
///                      ‖ str(db) [str(coll)] [varint(collection id)] [str(engine key)] [dk] [doc] [pre] [ud]
///                      [str(to db) str(to coll)] [desc] [before]
/// str = varint(length) ‖ bytes; dk, doc, pre, ud, desc, before = BSON documents as they are
/// ```
/// Every record is written as version 4; versions 1–3 are still read. An insert's version 4
/// record leaves `dk` out when it is `{_id}` (the reader takes `_id` from `doc`).
enum ChangeLogFormat {
    /// The first byte of a version 2 record.
    static let version2: UInt8 = 2
    /// The first byte of a version 3 record: one with an expanded (catalog) operation or an
    /// `operationDescription`.
    static let version3: UInt8 = 3
    /// The first byte of a version 4 record (the one written): a second flags byte, the
    /// collection's id, a modify's state before the change, an insert's `dk` left out.
    static let version4: UInt8 = 4
    /// The fourth byte of a version 2–4 record. Read as a version 1 record's BSON length, the
    /// first four bytes are then negative, so the versions are never confused.
    static let marker: UInt8 = 0xFF
    /// Bytes before `str(db)` in versions 2 and 3.
    static let headerSize = 12
    /// Bytes before `str(db)` in version 4 (the header and `flags2`).
    static let header4Size = 13

    /// The bytes before `str(db)` in a record of `version` (2, 3 or 4).
    static func headerSize(version: UInt8) -> Int { version >= version4 ? header4Size : headerSize }

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

    /// Version 4's second flags byte; other bits must be 0.
    enum Flag2 {
        /// varint(collection id) follows `str(coll)`: the catalog id the collection's UUID
        /// is derived from (SPEC.md §16.2).
        static let collectionId: UInt8 = 1 << 0
        /// `before` follows `desc`: a modify's collection options before the change.
        static let stateBefore: UInt8 = 1 << 1
        static let known: UInt8 = collectionId | stateBefore
    }

    /// A version 2, 3 or 4 record (the binary layout); otherwise a version 1 BSON record.
    static func isBinary(_ value: [UInt8]) -> Bool {
        value.count >= headerSize && value[0] >= version2 && value[0] <= version4 && value[3] == marker
            && value.count >= headerSize(version: value[0])
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
