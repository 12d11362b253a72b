import ArgumentParser
import OsmanthusStorage

/// `osmanthus backup create --repo R --data-dir D`.
struct BackupCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Back up a database.")

    @OptionGroup var repository: RepositoryOption

    @Option(help: "Data directory of the database.")
    var dataDir: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try Admin.run {
            let db = try Admin.open(dataDir, readOnly: true)
            defer { try? db.close() }
            let info = try BackupRepository(path: repository.repo).create(from: db)
            if json {
                try Admin.printJSON(BackupJSON(info))
            } else {
                print(
                    "backup \(info.id): sequence \(info.sequence), \(info.fileCount) files, \(info.totalBytes) bytes; "
                        + "\(info.copiedFiles) tables copied, \(info.reusedFiles) already stored")
            }
        }
    }
}

/// A backup as `--json` output shows it.
struct BackupJSON: Encodable {
    let id: String
    let sequence: UInt64
    let createdAt: Int64
    let files: Int
    let bytes: UInt64
    let copiedFiles: Int
    let reusedFiles: Int

    init(_ i: BackupInfo) {
        id = i.id
        sequence = i.sequence
        createdAt = i.createdAt
        files = i.fileCount
        bytes = i.totalBytes
        copiedFiles = i.copiedFiles
        reusedFiles = i.reusedFiles
    }
}
