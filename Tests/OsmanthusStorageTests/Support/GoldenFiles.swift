import Foundation

/// The checked-in golden files (`Tests/OsmanthusStorageTests/Golden/`), one per on-disk format.
///
/// Each format's golden test encodes the contents it states and compares the result with the
/// checked-in bytes. To (re)generate the files — only when a format version is bumped — run
/// those tests with `OSMANTHUS_WRITE_GOLDEN=<path to the Golden folder>`: `check` then writes
/// the freshly encoded bytes there before comparing.
enum GoldenFiles {
    static func bytes(_ name: String) throws -> [UInt8] {
        guard let folder = Bundle.module.url(forResource: "Golden", withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// The checked-in bytes of `name`, after writing `encoded` over the source copy when
    /// regeneration was asked for.
    static func check(_ name: String, encoded: [UInt8]) throws -> [UInt8] {
        if let folder = ProcessInfo.processInfo.environment["OSMANTHUS_WRITE_GOLDEN"] {
            try Data(encoded).write(to: URL(fileURLWithPath: folder).appendingPathComponent(name))
            return encoded
        }
        return try bytes(name)
    }
}
