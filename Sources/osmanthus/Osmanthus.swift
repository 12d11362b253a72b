import ArgumentParser

/// The one executable: server, admin tool and debugging commands.
@main
struct OsmanthusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osmanthus",
        abstract: "An embedded document database and a MongoDB-compatible server.",
        version: "0.1.0",
        subcommands: [Serve.self, DebugCommand.self]
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (not built yet).")

    @Option(help: "Data directory.")
    var dataDir: String = "./data"

    func run() throws {
        throw ValidationError("the server is not built yet (issue 7)")
    }
}
