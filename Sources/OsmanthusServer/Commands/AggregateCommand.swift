import Osmanthus
import OsmanthusBSON

/// The `aggregate` command: the full pipeline of the embedded library behind a server cursor
/// (batchSize, getMore), `explain: true`, and `$out` answered with an empty cursor. A pipeline
/// that starts with `$changeStream` is a change stream (`ChangeStreamCommands`).
enum AggregateCommand {
    static let command = Command(name: "aggregate", help: "runs an aggregation pipeline; returns a cursor", run: run)

    /// The documents of an aggregation cursor, for a server cursor.
    final class PipelineSource: DocumentSource {
        let cursor: AggregationCursor
        init(_ cursor: AggregationCursor) { self.cursor = cursor }
        func next() throws -> Document? { try cursor.next() }
    }

    static func run(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        if let reply = try ChangeStreamCommands.openIfChangeStream(request, context) { return reply }
        guard case .string = request.argument else {
            throw OsmanthusError(.notImplemented, "database-level aggregation ({aggregate: 1}) is not supported yet")
        }
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        context.server.statistics.count(.query)
        let body = request.body
        guard let stages = try body.commandDocuments("pipeline", in: "aggregate") else {
            throw OsmanthusError(.failedToParse, "BSON field 'aggregate.pipeline' is missing but a required field")
        }
        let collection = context.server.database.collection(name, in: request.databaseName)
        if try body.commandBool("explain", in: "aggregate") == true {
            var reply = try collection.explainAggregate(stages)
            reply.append("explainVersion", "1")
            return reply
        }
        guard let cursorOptions = try body.commandDocument("cursor", in: "aggregate") else {
            throw OsmanthusError(
                .failedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
        }
        let batchSize = try CursorReply.batchSize(
            cursorOptions.commandInt("batchSize", in: "aggregate.cursor"), command: "aggregate.cursor")
        var options = AggregateOptions()
        options.allowDiskUse = try body.commandBool("allowDiskUse", in: "aggregate") ?? false
        let results =
            try context.transaction.map {
                try $0.collection(name, in: request.databaseName).aggregate(stages, options: options)
            } ?? collection.aggregate(stages, options: options)
        let cursor = ServerCursor(
            namespace: request.namespace(name), connectionID: context.connection.id, sessionID: body["lsid"],
            source: PipelineSource(results))
        return try CursorReply.first(cursor, batchSize: batchSize, server: context.server)
    }
}
