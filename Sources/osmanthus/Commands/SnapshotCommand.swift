import ArgumentParser
import OsmanthusBSON
import OsmanthusStorage

/// `osmanthus snapshot --data-dir D --to T`: a consistent copy of a stopped database's
/// directory, made of hard links (SPEC.md §14.1).
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Write a consistent copy (checkpoint) of a database to a new directory.")

    @Option(help: "Data directory of the database.")
    var dataDir: String?

    @Option(help: "Directory to create; must not exist (with --server: a path on the server's machine).")
    var to: String

    @OptionGroup var online: ServerOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Encodable {
        let path: String
        let sequence: UInt64
        let tableCount: Int
        let tableBytes: UInt64
        let logBytes: UInt64
    }

    func run() throws {
        try Admin.run {
            if try online.endpoint() != nil {
                let reply = try online.run(["osmanthusSnapshot": .string(to)])
                if json { return print(ServerOption.json(reply)) }
                func int(_ k: String) -> Int64 { reply[k]?.exactInt64 ?? 0 }
                return print(
                    "snapshot \(to): sequence \(int("sequence")), \(int("tableCount")) tables (\(int("tableBytes")) bytes), "
                        + "\(int("logBytes")) log bytes copied")
            }
            let db = try Admin.open(try Admin.dataDir(dataDir), readOnly: true)
            defer { try? db.close() }
            let info = try db.checkpoint(to: to)
            if json {
                return try Admin.printJSON(
                    Output(
                        path: to, sequence: info.sequence, tableCount: info.tableCount, tableBytes: info.tableBytes,
                        logBytes: info.logBytes))
            }
            print(
                "snapshot \(to): sequence \(info.sequence), \(info.tableCount) tables (\(info.tableBytes) bytes), "
                    + "\(info.logBytes) log bytes copied")
        }
    }
}
