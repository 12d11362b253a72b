/// The manifest's constants (SPEC.md §8, "Manifest"). A manifest is a record log (SPEC.md §4)
/// whose records are encoded `VersionEdit`s.
///
/// These numbers are the format: changing any of them is a manifest format version bump.
public enum ManifestFormat {
    /// The manifest format version (SPEC.md §11); the first edit of a manifest records it.
    public static let version: UInt32 = 1

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
    }
}
