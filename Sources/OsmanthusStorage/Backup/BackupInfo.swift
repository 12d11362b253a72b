/// One published backup, as `BackupRepository.list()` and `create(from:)` describe it.
public struct BackupInfo: Sendable, Equatable {
    public let id: String
    /// The database as of this sequence.
    public let sequence: SequenceNumber
    /// Seconds since 1970 (UTC).
    public let createdAt: Int64
    public let fileCount: Int
    public let totalBytes: UInt64
    /// Tables this backup added to the repository (hard-linked or copied), and tables it shared
    /// with earlier ones.
    public let copiedFiles: Int
    public let reusedFiles: Int
    /// Of `copiedFiles`, those hard-linked to the database's own files; nil when the backup's
    /// manifest predates this count.
    public let linkedFiles: Int?

    public init(_ m: BackupManifest) {
        id = m.id
        sequence = m.sequence
        createdAt = m.createdAt
        fileCount = m.files.count
        totalBytes = m.files.reduce(0) { $0 + $1.size }
        copiedFiles = m.copiedFiles
        reusedFiles = m.reusedFiles
        linkedFiles = m.linkedFiles
    }

    /// How the backup stored its tables, for messages: "3 tables linked, 0 copied, 12 already
    /// stored" (or "3 tables added, …" when the manifest does not say how).
    public var tablesSummary: String {
        Self.tablesSummary(added: copiedFiles, linked: linkedFiles, reused: reusedFiles)
    }

    public static func tablesSummary(added: Int, linked: Int?, reused: Int) -> String {
        let stored =
            linked.map { "\($0) \($0 == 1 ? "table" : "tables") linked, \(added - $0) copied" }
            ?? "\(added) \(added == 1 ? "table" : "tables") added"
        return stored + ", \(reused) already stored"
    }
}

/// What `verify` found: every file of the backup re-read and checked.
public struct VerifyReport: Sendable {
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case missing
        case sizeMismatch(expected: UInt64, actual: UInt64)
        case checksumMismatch(expected: String, actual: String)

        public var description: String {
            switch self {
            case .missing: "missing"
            case .sizeMismatch(let e, let a): "size \(a), expected \(e)"
            case .checksumMismatch(let e, let a): "crc32c \(a), expected \(e)"
            }
        }

        public var kind: String {
            switch self {
            case .missing: "missing"
            case .sizeMismatch: "sizeMismatch"
            case .checksumMismatch: "checksumMismatch"
            }
        }
    }

    public struct Damage: Sendable, Equatable {
        /// The file's name in the database (`000012.sst`).
        public let name: String
        /// Its path in the repository.
        public let path: String
        public let problem: Problem

        public init(name: String, path: String, problem: Problem) {
            self.name = name
            self.path = path
            self.problem = problem
        }
    }

    public let id: String
    public let checkedFiles: Int
    public let checkedBytes: UInt64
    public let damage: [Damage]
    public var isIntact: Bool { damage.isEmpty }

    public init(id: String, checkedFiles: Int, checkedBytes: UInt64, damage: [Damage]) {
        self.id = id
        self.checkedFiles = checkedFiles
        self.checkedBytes = checkedBytes
        self.damage = damage
    }
}

/// What `prune` removed.
public struct PruneReport: Sendable {
    public let removedBackups: [String]
    /// Table files no remaining backup refers to.
    public let removedFiles: Int
    /// Partial backups and work directories of crashed ones.
    public let removedPartials: Int

    public init(removedBackups: [String], removedFiles: Int, removedPartials: Int) {
        self.removedBackups = removedBackups
        self.removedFiles = removedFiles
        self.removedPartials = removedPartials
    }
}
