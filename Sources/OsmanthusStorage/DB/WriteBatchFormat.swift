/// The write batch's constants (SPEC.md §5, "Write batch"): the payload of every WAL record.
///
/// These numbers are the format: changing any of them is a WAL format version bump.
public enum WriteBatchFormat {
    /// `sequence (fixed64) ‖ count (fixed32)`.
    public static let headerSize = 12
    static let sequenceOffset = 0
    static let countOffset = 8
    // Each record starts with a kind byte: `ValueKind.rawValue` (0 deletion, 1 value).
}
