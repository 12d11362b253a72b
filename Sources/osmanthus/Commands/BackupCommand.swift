import ArgumentParser

/// `osmanthus backup create|list|verify|restore|prune --repo R ...` (SPEC.md §14.2–14.4).
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Take, list, verify, restore and prune backups in a repository.",
        subcommands: [
            BackupCreate.self, BackupList.self, BackupVerify.self, BackupRestore.self, BackupPrune.self,
            BackupS3Command.self,
        ])
}

/// The repository option every backup subcommand takes (not with `--server`: the server
/// uses its own repository).
struct RepositoryOption: ParsableArguments {
    @Option(help: "Backup repository directory.")
    var repo: String?

    func path() throws -> String {
        guard let repo else { throw ValidationError("--repo is required (or --server for a running server's backups)") }
        return repo
    }
}
