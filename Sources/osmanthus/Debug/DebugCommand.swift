import ArgumentParser

/// `osmanthus debug …`: hidden tools for tests and for engineers, not for users.
struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Tools for testing the engine.",
        shouldDisplay: false,
        subcommands: [CrashWriter.self, DocumentCrashWriter.self, ChangeConsumer.self]
    )
}
