import FoundationEssentials

/// `backups/<id>/manifest.json`: what a backup holds (SPEC.md §14.3).
struct BackupManifest: Codable, Sendable {
    struct File: Codable, Sendable {
        /// The file's name in the database directory (`000012.sst`, `CURRENT`, ...).
        var name: String
        var size: UInt64
        /// CRC-32C of the whole file, 8 lowercase hex digits.
        var crc32c: String
        /// Where the bytes are, relative to the repository (`files/...` or `backups/<id>/...`).
        var object: String
    }

    var formatVersion: Int
    var id: String
    /// Seconds since 1970 (UTC) when the backup was taken.
    var createdAt: Int64
    /// The database as of this sequence: every write up to it, none after.
    var sequence: UInt64
    /// Table files this backup added to `files/`, and those it found there already.
    var copiedFiles: Int
    var reusedFiles: Int
    var files: [File]

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
        } catch {
            throw StorageError(.invalidArgument, "cannot encode the backup manifest: \(error)")
        }
    }

    static func decode(_ bytes: [UInt8], file: String) throws -> BackupManifest {
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: Data(bytes))
        } catch {
            throw StorageError.corruption("backup manifest does not parse: \(error)", file: file, offset: nil)
        }
        if manifest.formatVersion > BackupFormat.version {
            throw StorageError(
                .unsupported,
                "backup manifest format version \(manifest.formatVersion) is newer than this build reads "
                    + "(\(BackupFormat.version))",
                file: file)
        }
        return manifest
    }
}
