import ArgumentParser
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
            let r = try BackupRepository(path: try repository.path()).prune(keepLast: keepLast)
            if json {
                return try Admin.printJSON(
                    Output(removedBackups: r.removedBackups, removedFiles: r.removedFiles, removedPartials: r.removedPartials))
            }
            print(
                "removed \(r.removedBackups.count) backups, \(r.removedFiles) files, "
                    + "\(r.removedPartials) partial backups")
        }
    }
}
