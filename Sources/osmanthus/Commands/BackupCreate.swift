import ArgumentParser
import OsmanthusBSON
import OsmanthusStorage

/// `osmanthus backup create --repo R --data-dir D`.
struct BackupCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Back up a database.")

    @OptionGroup var repository: RepositoryOption

    @Option(help: "Data directory of the database.")
    var dataDir: String?

    @OptionGroup var online: ServerOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try Admin.run {
            if try online.endpoint() != nil {
                let reply = try online.run(["osmanthusBackup": 1, "action": "create"])
                if json { return print(ServerOption.json(reply)) }
                let b = reply["backup"]?.documentValue ?? [:]
                return print(
                    "backup \(b["id"]?.stringValue ?? "?"): sequence \(b["sequence"]?.exactInt64 ?? 0), "
                        + "\(b["files"]?.exactInt64 ?? 0) files, \(b["bytes"]?.exactInt64 ?? 0) bytes; "
                        + BackupInfo.tablesSummary(
                            added: Int(b["copiedFiles"]?.exactInt64 ?? 0), linked: (b["linkedFiles"]?.exactInt64).map { Int($0) },
                            reused: Int(b["reusedFiles"]?.exactInt64 ?? 0))
                        + "; verified by the server")
            }
            let db = try Admin.open(try Admin.dataDir(dataDir), readOnly: true)
            defer { try? db.close() }
            let info = try BackupRepository(path: try repository.path()).create(from: db)
            if json {
                try Admin.printJSON(BackupJSON(info))
            } else {
                print(
                    "backup \(info.id): sequence \(info.sequence), \(info.fileCount) files, \(info.totalBytes) bytes; "
                        + info.tablesSummary)
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
    /// Tables added to the repository, of them hard-linked (absent for old manifests), reused.
    let copiedFiles: Int
    let linkedFiles: Int?
    let reusedFiles: Int

    init(_ i: BackupInfo) {
        id = i.id
        sequence = i.sequence
        createdAt = i.createdAt
        files = i.fileCount
        bytes = i.totalBytes
        copiedFiles = i.copiedFiles
        linkedFiles = i.linkedFiles
        reusedFiles = i.reusedFiles
    }
}
