/// The manifest's constants (SPEC.md §8, "Manifest"). A manifest is a record log (SPEC.md §4)
/// whose records are encoded `VersionEdit`s.
///
/// These numbers are the format: changing any of them is a manifest format version bump.
public enum ManifestFormat {
    /// The manifest format version (SPEC.md §8, §15); the first edit of a manifest records it.
    /// 2 added tag 8 (a new table's whole-file checksum); format 1 manifests still read, their
    /// tables without checksums.
    public static let version: UInt32 = 2

    /// Levels are 0 ..< levelCount.
    public static let levelCount = 7

    /// The tag that starts each field of an encoded edit.
    enum Tag: UInt64 {
        case formatVersion = 1
        case logNumber = 2
        case nextFileNumber = 3
        case lastSequence = 4
        case compactPointer = 5
        case deletedFile = 6
        case newFile = 7
        /// varint file number ‖ fixed32 CRC-32C of the whole file, for a table the same edit adds.
        case fileChecksum = 8
    }
}
