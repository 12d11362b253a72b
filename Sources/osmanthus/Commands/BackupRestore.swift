import ArgumentParser
import Osmanthus
import OsmanthusStorage

/// `osmanthus backup restore --repo R ID --to D [--overwrite]`, or `--at TIME|seq:N` instead of
/// ID: point-in-time restore from the newest earlier backup plus the archived change log.
struct BackupRestore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a backup as a database directory.")

    @OptionGroup var repository: RepositoryOption

    @Argument(help: "Backup id (omit with --at).")
    var id: String?

    @Option(help: "Restore to this instant: an ISO-8601 time (2026-11-21T23:00:00Z) or seq:N.")
    var at: String?

    @Option(help: "Directory to restore into (must be empty or missing unless --overwrite).")
    var to: String

    @Flag(help: "Replace the files of a non-empty target directory.")
    var overwrite = false

    @Flag(help: "Copy every table instead of hard-linking it from the repository when both are on one file system.")
    var copyFiles = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (id == nil) != (at == nil) else { throw ValidationError("give either a backup id or --at") }
    }

    func run() throws {
        try Admin.run {
            let path = try repository.path()
            if let at {
                let r = try PointInTimeRestore.restore(
                    repository: path, to: to, at: try PointInTimeRestore.Target(parsing: at), overwrite: overwrite)
                print(
                    "restored backup \(r.backupID) (sequence \(r.backupSequence)) + \(r.replayedRecords) change records "
                        + "to sequence \(r.sequence) in \(to)")
                return
            }
            guard let id else { return }
            let repo = BackupRepository(path: path, linkFiles: !copyFiles)
            let total = try repo.list().first { $0.id == id }?.totalBytes ?? 0
            let bar = ProgressBar("restore \(id)", total: overwrite ? 2 * total : total)
            let info = try repo.restore(id, to: to, overwrite: overwrite) { bar.update($0) }
            bar.finish()
            if json { return try Admin.printJSON(BackupJSON(info)) }
            print("restored backup \(info.id) (sequence \(info.sequence)) to \(to)")
        }
    }
}
