import Osmanthus
import OsmanthusBSON

/// findAndModify: updates, replaces or removes one document and returns it (before or after).
enum FindAndModifyCommand {
    static let all: [Command] = [
        Command(
            name: "findAndModify", aliases: ["findandmodify"], help: "modifies one document and returns it",
            run: findAndModify)
    ]

    static func findAndModify(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        let body = request.body
        let command = "findAndModify"
        var options = FindAndModifyOptions()
        options.sort = try body.commandDocument("sort", in: command)
        options.projection = try body.commandDocument("fields", in: command)
        options.remove = try body.commandBool("remove", in: command) ?? false
        options.returnNew = try body.commandBool("new", in: command) ?? false
        options.upsert = try body.commandBool("upsert", in: command) ?? false
        options.arrayFilters = try body.commandDocuments("arrayFilters", in: command) ?? []
        switch body["update"] {
        case nil, .null?:
            options.update = nil
        case .document(let update)?:
            options.update = update
        case .array?:
            throw OsmanthusError(.notImplemented, "pipeline-style updates are not supported yet")
        case let other?:
            throw OsmanthusError(
                .failedToParse, "Update argument must be either an object or an array, not \(other.type.name)")
        }
        if options.remove {
            guard options.update == nil else {
                throw OsmanthusError(.failedToParse, "Cannot specify both an update and remove=true")
            }
            guard !options.upsert else {
                throw OsmanthusError(.failedToParse, "Cannot specify both upsert=true and remove=true")
            }
            guard !options.returnNew else {
                throw OsmanthusError(
                    .failedToParse, "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document")
            }
            context.server.statistics.count(.delete)
        } else {
            guard options.update != nil else {
                throw OsmanthusError(.failedToParse, "Either an update or remove=true must be specified")
            }
            context.server.statistics.count(.update)
        }
        let filter = try body.commandDocument("query", in: command) ?? Document()
        let result =
            if let transaction = context.transaction {
                try transaction.collection(name, in: request.databaseName).findAndModify(filter, options: options)
            } else {
                try context.server.database.collection(name, in: request.databaseName)
                    .findAndModify(filter, options: options)
            }
        return [
            "lastErrorObject": .document(result.lastErrorObject),
            "value": result.value.map { .document($0) } ?? .null,
        ]
    }
}
