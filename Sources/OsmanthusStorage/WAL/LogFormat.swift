/// The record log's constants (SPEC.md §4, "Write-ahead log"). The write-ahead log and the
/// manifest are both record logs.
///
/// These numbers are the format: changing any of them is a bump of `version`.
public enum LogFormat {
    /// The log format version (SPEC.md §11).
    public static let version: UInt32 = 1

    /// The file is a sequence of blocks of this size; only the last one may be partial.
    public static let blockSize = 32 * 1024

    /// `masked crc32c (fixed32) ‖ length (fixed16) ‖ type (1 byte)`.
    public static let headerSize = 7

    /// The most payload one physical record can carry: a whole block less its header.
    public static let maxFragmentSize = blockSize - headerSize

    /// What a physical record holds of its logical record.
    public enum RecordType: UInt8, Sendable {
        /// A whole logical record.
        case full = 1
        /// The first fragment of a logical record that continues in later blocks.
        case first = 2
        /// A fragment that is neither the first nor the last.
        case middle = 3
        /// The last fragment.
        case last = 4
    }

    /// The unmasked CRC-32C of the single type byte, the seed every record's checksum extends.
    static let typeChecksums: [UInt32] = (0...4).map { CRC32C.checksum([UInt8($0)]) }

    /// The masked checksum stored in a header: it covers the type byte and the payload.
    @inline(__always)
    static func maskedChecksum(type: UInt8, payload: UnsafeRawBufferPointer) -> UInt32 {
        let seed = Int(type) < typeChecksums.count ? typeChecksums[Int(type)] : CRC32C.checksum([type])
        return CRC32C.mask(CRC32C.checksum(payload, extending: seed))
    }
}
