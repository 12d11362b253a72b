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

    func validate() throws {
        guard keepLast >= 0 else { throw ValidationError("--keep-last must be 0 or more") }
    }

    func run() throws {
        try Admin.run {
            let repo = BackupRepository(path: repository.repo)
            let r = try repo.prune(keepLast: keepLast)
            // Change-log segments only the removed backups needed (none when no backup is left).
            let segments = try repo.list().first.map {
                try ChangeLogArchive(repository: repository.repo).prune(through: $0.sequence)
            } ?? 0
            print(
                "removed \(r.removedBackups.count) backups, \(r.removedFiles) files, "
                    + "\(r.removedPartials) partial backups, \(segments) change-log segments")
        }
    }
}
