import ArgumentParser
import OsmanthusStorage

/// `osmanthus snapshot --data-dir D --to T`: a consistent copy of a stopped database's
/// directory, made of hard links (SPEC.md §14.1).
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Write a consistent copy (checkpoint) of a database to a new directory.")

    @Option(help: "Data directory of the database.")
    var dataDir: String

    @Option(help: "Directory to create; must not exist.")
    var to: String

    func run() throws {
        try Admin.run {
            let db = try Admin.open(dataDir, readOnly: true)
            defer { try? db.close() }
            let info = try db.checkpoint(to: to)
            print(
                "snapshot \(to): sequence \(info.sequence), \(info.tableCount) tables (\(info.tableBytes) bytes), "
                    + "\(info.logBytes) log bytes copied")
        }
    }
}
