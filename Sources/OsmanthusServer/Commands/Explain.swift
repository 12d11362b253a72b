import Osmanthus
import OsmanthusBSON

/// `explain` of find, count and distinct: the plan and execution statistics of the wrapped
/// command (aggregate's explain belongs to the pipeline).
enum ExplainCommand {
    static let all: [Command] = [
        Command(name: "explain", help: "the plan of a find, count or distinct", run: explain)
    ]

    static func explain(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard case .document(let inner) = request.argument, let (command, target) = inner.firstField else {
            throw OsmanthusError(.failedToParse, "explain command requires a nested object")
        }
        guard case .string(let name) = target else {
            throw OsmanthusError(.invalidNamespace, "collection name must be a string")
        }
        try Namespace.validateCollection(name, in: request.databaseName)
        let collection = context.server.database.collection(name, in: request.databaseName)
        var options = FindOptions()
        let filter: Document
        switch command {
        case "find":
            filter = try inner.commandDocument("filter", in: "find") ?? Document()
            options.sort = try inner.commandDocument("sort", in: "find")
            options.projection = try inner.commandDocument("projection", in: "find")
            options.skip = try inner.commandInt("skip", in: "find") ?? 0
            options.limit = abs(try inner.commandInt("limit", in: "find") ?? 0)
            options.hint = try QueryCommands.hint(inner["hint"])
        case "count":
            filter = try inner.commandDocument("query", in: "count") ?? Document()
            options.skip = try inner.commandInt("skip", in: "count") ?? 0
            options.limit = abs(try inner.commandInt("limit", in: "count") ?? 0)
            options.hint = try QueryCommands.hint(inner["hint"])
        case "distinct":
            filter = try inner.commandDocument("query", in: "distinct") ?? Document()
        default:
            throw OsmanthusError(.commandNotSupported, "explain of '\(command)' is not supported")
        }
        var reply = try collection.explain(filter, options: options)
        reply.append("command", .document(inner))
        reply.append("serverInfo", .document(["version": "7.0.0"]))
        return reply
    }
}
