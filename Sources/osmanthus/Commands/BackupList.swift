import ArgumentParser
import OsmanthusBSON
import OsmanthusStorage

/// `osmanthus backup list --repo R [--json]`: published backups, oldest first.
struct BackupList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the backups of a repository.")

    @OptionGroup var repository: RepositoryOption

    @OptionGroup var online: ServerOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try Admin.run {
            if try online.endpoint() != nil {
                let reply = try online.run(["osmanthusBackup": 1, "action": "list"])
                if json { return print(ServerOption.json(reply)) }
                print("id      sequence  files  bytes  created (unix seconds)")
                for case .document(let b) in reply["backups"]?.arrayValue ?? [] {
                    let fields = ["id", "sequence", "files", "bytes", "createdAt"].map { key in
                        b[key].map { $0.stringValue ?? $0.exactInt64.map(String.init) ?? "?" } ?? "?"
                    }
                    print(fields.joined(separator: "  "))
                }
                return
            }
            let backups = try BackupRepository(path: try repository.path()).list()
            if json {
                try Admin.printJSON(backups.map(BackupJSON.init))
                return
            }
            print("id      sequence  files  bytes  created (unix seconds)")
            for b in backups {
                print("\(b.id)  \(b.sequence)  \(b.fileCount)  \(b.totalBytes)  \(b.createdAt)")
            }
        }
    }
}
