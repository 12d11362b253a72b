import ArgumentParser
import OsmanthusStorage

/// `osmanthus check --data-dir D [--json]`: opens read-only and reads every table and log in
/// full, verifying every checksum; damage is reported with its file and offset, exit code 1.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Verify every checksum of a database.")

    @Option(help: "Data directory of the database.")
    var dataDir: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Encodable {
        struct Problem: Encodable {
            let file: String?
            let offset: UInt64?
            let message: String
        }
        let intact: Bool
        let tables: Int
        let logs: Int
        let entries: Int
        let bytes: UInt64
        let problems: [Problem]
    }

    func run() throws {
        try Admin.run {
            var report = IntegrityReport()
            do {
                let db = try Admin.open(dataDir, readOnly: true)
                report = db.checkIntegrity()
                try db.close()
            } catch let e as StorageError where e.code == .corruption {
                // Opening replays the logs and reads the manifest: damage there stops it.
                report.problems.append(e)
            }
            let output = Output(
                intact: report.isIntact, tables: report.tablesChecked, logs: report.logsChecked,
                entries: report.entriesChecked, bytes: report.bytesChecked,
                problems: report.problems.map { .init(file: $0.file, offset: $0.offset, message: $0.message) })
            if json {
                try Admin.printJSON(output)
            } else if report.isIntact {
                print(
                    "ok: \(output.tables) tables, \(output.logs) logs, \(output.entries) entries, \(output.bytes) bytes"
                )
            } else {
                for p in output.problems {
                    let place = (p.file ?? "?") + (p.offset.map { " at offset \($0)" } ?? "")
                    print("damage: \(place): \(p.message)")
                }
            }
            if !report.isIntact { throw ExitCode(1) }
        }
    }
}
