import ArgumentParser
import Osmanthus
import OsmanthusStorage

/// `osmanthus backup prune --repo R --keep-last N`.
struct BackupPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete old backups, partial ones and unreferenced files.")

    @OptionGroup var repository: RepositoryOption

    @Option(help: "Number of newest backups to keep.")
    var keepLast: Int

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Encodable {
        let removedBackups: [String]
        let removedFiles: Int
        let removedPartials: Int
    }

    func validate() throws {
        guard keepLast >= 0 else { throw ValidationError("--keep-last must be 0 or more") }
    }

    func run() throws {
        try Admin.run {
            let path = try repository.path()
            let repo = BackupRepository(path: path)
            let r = try repo.prune(keepLast: keepLast)
            // Change-log segments only the removed backups needed (none when no backup is left).
            let segments = try repo.list().first.map {
                try ChangeLogArchive(repository: path).prune(through: $0.sequence)
            } ?? 0
            if json {
                return try Admin.printJSON(
                    Output(removedBackups: r.removedBackups, removedFiles: r.removedFiles, removedPartials: r.removedPartials))
            }
            print(
                "removed \(r.removedBackups.count) backups, \(r.removedFiles) files, "
                    + "\(r.removedPartials) partial backups, \(segments) change-log segments")
        }
    }
}
