import OsmanthusBackupS3
import OsmanthusStorage

/// The server's automated backups (SPEC.md §14.5): where, when, and what to keep.
public struct BackupConfiguration: Sendable {
    /// The repository directory (`BackupRepository`).
    public var repository: String
    public var schedule: BackupSchedule
    public var retention: RetentionPolicy
    /// Re-read every file of each new backup before counting it a success.
    public var verifyAfterBackup = true
    /// Bytes per second a scheduled backup (and its verify) may read and copy; nil: unpaced.
    /// Paced by default so the database's writers keep the machine while a backup runs.
    public var rateLimit: UInt64? = BackupConfiguration.defaultRateLimit
    public static let defaultRateLimit: UInt64 = 64 << 20
    /// Hard-link tables and closed logs into `repository` when it is on the data's file system
    /// (`BackupRepository.linkFiles`); false: every stored file is a copy of its own.
    public var linkFiles = true
    /// Where each backup is pushed after it is taken and verified locally (SPEC.md §14.8):
    /// `repository` is then the staging copy, and both are pruned by `retention`.
    public var remote: S3Repository?

    public init(repository: String, schedule: BackupSchedule = .every(seconds: 3600), retention: RetentionPolicy = .standard) {
        self.repository = repository
        self.schedule = schedule
        self.retention = retention
    }

    /// `<parent of data dir>/<data dir's name>-backups`: next to the data, not inside it (a
    /// checkpoint of the directory must not contain its own backups), and on the same volume so
    /// table files can be hard-linked while a backup is taken.
    public static func defaultRepository(forDataDirectory dataDirectory: String) -> String {
        var trimmed = Substring(dataDirectory)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty || trimmed == "." { return "../osmanthus-backups" }
        if trimmed == "/" { return "/osmanthus-backups" }
        return String(trimmed) + "-backups"
    }
}
