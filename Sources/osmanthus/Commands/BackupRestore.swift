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

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try Admin.run {
            let repo = BackupRepository(path: try repository.path())
            let total = try repo.list().first { $0.id == id }?.totalBytes ?? 0
            let bar = ProgressBar("restore \(id)", total: 2 * total)
            let info = try repo.restore(id, to: to, overwrite: overwrite) { bar.update($0) }
            bar.finish()
            if json { return try Admin.printJSON(BackupJSON(info)) }
            print("restored backup \(info.id) (sequence \(info.sequence)) to \(to)")
        }
    }
}
