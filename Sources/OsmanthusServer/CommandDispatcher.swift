import NIOCore
import Osmanthus
import OsmanthusBSON

/// Finds a command by name and runs it; every outcome is a reply document. Commands live in
/// `Commands/<Family>.swift`, each family listing its `Command`s.
final class CommandDispatcher: Sendable {
    /// A command under one of its names, with that name's metrics slot.
    private struct Entry {
        let command: Command
        let slot: Int
    }

    /// By name and alias.
    private let table: [String: Entry]
    /// `table["find"]`, the most frequent command: a name compare instead of hashing the name.
    private let findEntry: Entry?
    /// The commands in registration order (`listCommands`).
    let commands: [Command]
    /// Every name and alias; a name's index is its slot in `ServerMetrics`.
    let names: [String]

    init(commands: [Command]) {
        var table: [String: Entry] = [:]
        var names: [String] = []
        for command in commands {
            for name in [command.name] + command.aliases {
                precondition(table[name] == nil, "command '\(name)' registered twice")
                table[name] = Entry(command: command, slot: names.count)
                names.append(name)
            }
        }
        self.table = table
        self.findEntry = table["find"]
        self.commands = commands
        self.names = names
    }

    static let standard = CommandDispatcher(
        commands: HandshakeCommands.all + AdminCommands.all + WriteCommands.all + QueryCommands.all
            + FindAndModifyCommand.all + CatalogCommands.all + ChangeStreamCommands.all
            + StorageAdminCommands.all + ExplainCommand.all
            + TransactionCommands.all + AuthCommands.all + UserCommands.all + RoleCommands.all + OperationCommands.all)

    func command(named name: String) -> Command? { table[name]?.command }

    /// Runs `request` and returns its reply: the command's document with `ok: 1`, or
    /// `ErrorMapping`'s `{ok: 0, ...}`.
    func run(_ request: CommandRequest, context: CommandContext) -> CommandReply {
        let started = NIODeadline.now()
        // Looked up once: the dispatch and the metrics share it.
        let entry = request.name == "find" ? findEntry : table[request.name]
        let reply = dispatch(entry?.command, request, context: context)
        context.server.metrics.commandFinished(
            slot: entry?.slot ?? context.server.metrics.unknownSlot,
            nanoseconds: (NIODeadline.now() - started).nanoseconds,
            failed: reply.failed)
        return reply
    }

    private func dispatch(_ command: Command?, _ request: CommandRequest, context: CommandContext) -> CommandReply {
        context.server.statistics.count(.command)
        guard let command else {
            return .document(ErrorMapping.reply(for: OsmanthusError(.commandNotFound, "no such command: '\(request.name)'")))
        }
        if command.adminOnly, request.databaseName != "admin" {
            return .document(ErrorMapping.reply(
                for: OsmanthusError(.unauthorized, "\(request.name) may only be run against the admin database.")))
        }
        if context.server.configuration.authenticationRequired {
            context.connection.auth.refresh(
                generation: context.server.userGeneration, store: UserStore(database: context.server.database))
        }
        if context.server.configuration.authenticationRequired,
            !AuthCommands.allowedUnauthenticated.contains(request.name), !context.connection.auth.isAuthenticated
        {
            return .document(ErrorMapping.reply(
                for: OsmanthusError(.unauthorized, "Command \(request.name) requires authentication")))
        }
        if context.server.configuration.authenticationRequired,
            let denied = Authorization.check(request, roles: context.connection.auth.authorized)
        {
            return .document(ErrorMapping.reply(for: denied))
        }
        do {
            defer {
                if UserStore.mayChangeUsers(request) { context.server.usersChanged() }
                if ViewCatalog.mayChangeViews(request) { try? context.server.views.reload(db: request.databaseName) }
            }
            // A command naming a view runs as the view's (SPEC.md §13.7).
            let command = context.server.views.view(for: request).map { ViewCommands.command(for: request, on: $0) ?? command } ?? command
            return try SessionGate.run(command, request, context)
        } catch {
            let mapped = ErrorMapping.osmanthusError(for: error)
            if mapped.code == .internalError || mapped.code == .storageError {
                context.server.logger.error("command \(request.name) failed: \(error)")
            }
            var reply = ErrorMapping.reply(for: mapped)
            if let labeled = error as? LabeledError { reply.append("errorLabels", .array(labeled.labels)) }
            return .document(reply)
        }
    }
}
