/// The write batch's constants (SPEC.md §5, "Write batch"): the payload of every WAL record.
///
/// These numbers are the format: changing any of them is a write batch format version bump.
public enum WriteBatchFormat {
    /// `sequence (fixed64) ‖ count (fixed32)`.
    public static let headerSize = 12
    static let sequenceOffset = 0
    static let countOffset = 8
    // Each record starts with a kind byte: `ValueKind.rawValue` (0 deletion, 1 value), or
    // `splicedKind`.

    /// A value record whose value is `head ‖ the value of an earlier value record of the same
    /// batch` (format 2; format 1 batches hold only kinds 0 and 1). It is applied as an ordinary
    /// value (internal-key kind 1): only the WAL sees the compact form, so a change record does
    /// not carry its document's bytes through the log a second time.
    ///
    ///     0x02 ‖ bytes(key) ‖ varint(source) ‖ bytes(head)
    ///
    /// `source` counts records back from this one (≥ 1), so it stays right when batches are
    /// concatenated into a group's record.
    public static let splicedKind: UInt8 = 2

    /// The write batch format version: 2 adds `splicedKind` (SPEC.md §15).
    public static let version = 2
}
