import Osmanthus
import OsmanthusBSON

/// The `aggregate` command: the full pipeline of the embedded library behind a server cursor
/// (batchSize, getMore), `explain: true`, and `$out` answered with an empty cursor. A pipeline
/// that starts with `$changeStream` is a change stream (`ChangeStreamCommands`); `{aggregate: 1}`
/// runs a pipeline that starts with `$documents` (namespace `<db>.$cmd.aggregate`).
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
        guard case .string = request.argument else { return try runDatabaseLevel(request, context) }
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        context.server.statistics.count(.query)
        let body = request.body
        let stages = try pipeline(body)
        let collection = context.server.database.collection(name, in: request.databaseName)
        if try body.commandBool("explain", in: "aggregate") == true {
            var reply = try collection.explainAggregate(stages)
            reply.append("explainVersion", "1")
            return reply
        }
        let (batchSize, options) = try cursorAndOptions(body)
        let results =
            try context.transaction.map {
                try $0.collection(name, in: request.databaseName).aggregate(stages, options: options)
            } ?? collection.aggregate(stages, options: options)
        let cursor = ServerCursor(
            namespace: request.namespace(name), connectionID: context.connection.id, sessionID: body["lsid"],
            source: PipelineSource(results))
        return try CursorReply.first(cursor, batchSize: batchSize, server: context.server)
    }

    /// `{aggregate: 1, pipeline: [{$documents: ...}, ...]}`: no collection is read.
    private static func runDatabaseLevel(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard request.argument.isNumber, request.argument.numericDouble == 1 else {
            throw OsmanthusError(.failedToParse, "Invalid command format: the 'aggregate' field must specify a collection name or 1")
        }
        context.server.statistics.count(.query)
        let body = request.body
        let stages = try pipeline(body)
        if try body.commandBool("explain", in: "aggregate") == true {
            return ["stages": .array(stages.map { .document($0) }), "explainVersion": "1"]
        }
        let (batchSize, options) = try cursorAndOptions(body)
        let results = try context.server.database.aggregate(stages, in: request.databaseName, options: options)
        let cursor = ServerCursor(
            namespace: request.namespace("$cmd.aggregate"), connectionID: context.connection.id,
            sessionID: body["lsid"], source: PipelineSource(results))
        return try CursorReply.first(cursor, batchSize: batchSize, server: context.server)
    }

    /// The `pipeline` field both forms require.
    private static func pipeline(_ body: Document) throws -> [Document] {
        guard let stages = try body.commandDocuments("pipeline", in: "aggregate") else {
            throw OsmanthusError(.failedToParse, "BSON field 'aggregate.pipeline' is missing but a required field")
        }
        return stages
    }

    /// The `cursor` option (required unless explaining) and the pipeline options.
    static func cursorAndOptions(_ body: Document) throws -> (batchSize: Int?, options: AggregateOptions) {
        guard let cursorOptions = try body.commandDocument("cursor", in: "aggregate") else {
            throw OsmanthusError(
                .failedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
        }
        let batchSize = try CursorReply.batchSize(
            cursorOptions.commandInt("batchSize", in: "aggregate.cursor"), command: "aggregate.cursor")
        var options = AggregateOptions()
        options.allowDiskUse = try body.commandBool("allowDiskUse", in: "aggregate") ?? false
        return (batchSize, options)
    }
}
