import ArgumentParser
import OsmanthusStorage

/// `osmanthus backup list --repo R [--json]`: published backups, oldest first.
struct BackupList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the backups of a repository.")

    @OptionGroup var repository: RepositoryOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try Admin.run {
            let backups = try BackupRepository(path: repository.repo).list()
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
