import FoundationEssentials

/// `backups/<id>/manifest.json`: what a backup holds (SPEC.md §14.3).
public struct BackupManifest: Codable, Sendable {
    public struct File: Codable, Sendable {
        /// The file's name in the database directory (`000012.sst`, `CURRENT`, ...).
        public var name: String
        public var size: UInt64
        /// CRC-32C of the whole file, 8 lowercase hex digits.
        public var crc32c: String
        /// Where the bytes are, relative to the repository (`files/...` or `backups/<id>/...`).
        public var object: String
    }

    public var formatVersion: Int
    public var id: String
    /// Seconds since 1970 (UTC) when the backup was taken.
    public var createdAt: Int64
    /// The database as of this sequence: every write up to it, none after.
    public var sequence: UInt64
    /// Table files this backup added to `files/` (hard-linked or copied), and those it found
    /// there already.
    public var copiedFiles: Int
    /// Of `copiedFiles`, how many were hard links to the database's own files; nil in
    /// manifests written before this was recorded.
    public var linkedFiles: Int?
    public var reusedFiles: Int
    public var files: [File]

    public init(
        formatVersion: Int, id: String, createdAt: Int64, sequence: UInt64, copiedFiles: Int, linkedFiles: Int?,
        reusedFiles: Int, files: [File]
    ) {
        self.formatVersion = formatVersion
        self.id = id
        self.createdAt = createdAt
        self.sequence = sequence
        self.copiedFiles = copiedFiles
        self.linkedFiles = linkedFiles
        self.reusedFiles = reusedFiles
        self.files = files
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
        } catch {
            throw StorageError(.invalidArgument, "cannot encode the backup manifest: \(error)")
        }
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> BackupManifest {
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
