import ArgumentParser

/// The one executable: server, admin tool and debugging commands.
@main
struct OsmanthusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osmanthus",
        abstract: "An embedded document database and a MongoDB-compatible server.",
        version: "0.1.0",
        subcommands: [
            Serve.self, SnapshotCommand.self, BackupCommand.self, StatsCommand.self, CompactCommand.self,
            CheckCommand.self, ExportCommand.self, ImportCommand.self, DumpWALCommand.self, DumpSSTCommand.self, DebugCommand.self,
        ]
    )

    /// `serve` also takes settings from `--config` and OSMANTHUS_* variables (ServeSettings).
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "serve" {
            do {
                arguments = ["serve"] + (try ServeSettings.arguments(commandLine: Array(arguments.dropFirst())))
            } catch {
                Serve.exit(withError: error)
            }
        }
        main(arguments)
    }
}
