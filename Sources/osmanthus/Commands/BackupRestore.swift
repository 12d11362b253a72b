import ArgumentParser
import OsmanthusStorage

/// `osmanthus backup restore --repo R ID --to D [--overwrite]`.
struct BackupRestore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup as a database directory.")

    @OptionGroup var repository: RepositoryOption

    @Argument(help: "Backup id.")
    var id: String

    @Option(help: "Directory to restore into (must be empty or missing unless --overwrite).")
    var to: String

    @Flag(help: "Replace the files of a non-empty target directory.")
    var overwrite = false

    func run() throws {
        try Admin.run {
            let info = try BackupRepository(path: try repository.path()).restore(id, to: to, overwrite: overwrite)
            print("restored backup \(info.id) (sequence \(info.sequence)) to \(to)")
        }
    }
}
