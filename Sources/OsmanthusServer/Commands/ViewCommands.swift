import Osmanthus
import OsmanthusBSON

/// Commands on a view (SPEC.md §13.7). Reads become an aggregation over the collection the view
/// finally reads, with the views' stages first, answered under the view's namespace (so getMore
/// and killCursors name the view, as with MongoDB); writes, indexes and change streams are 166
/// CommandNotSupportedOnView.
enum ViewCommands {
    /// What runs in place of `request`'s command when it names `view`; nil runs the command as is.
    static func command(for request: CommandRequest, on view: ViewDefinition) -> Command? {
        let run: @Sendable (CommandRequest, CommandContext) throws -> Document
        switch request.name {
        case "killCursors":
            return nil  // cursors opened on the view are registered under its namespace
        case "find": run = { try find($0, $1, view) }
        case "aggregate": run = { try aggregate($0, $1, view) }
        case "count": run = { try count($0, $1, view) }
        case "distinct": run = { try distinct($0, $1, view) }
        case "drop": run = { try drop($0, $1, view) }
        case "collMod": run = { try collMod($0, $1, view) }
        case "create":
            run = { _, _ in throw OsmanthusError(.namespaceExists, "Namespace \(view.namespace) already exists (a view)") }
        default:
            run = { _, _ in throw view.notSupported }
        }
        return Command(name: request.name, help: "", run: run)
    }

    /// `create` with `viewOn`: stores the view; 48 if a collection or view has the name.
    static func create(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        let db = request.databaseName
        try Namespace.validateCollection(name, in: db)
        for option in ["capped", "timeseries", "clusteredIndex", "validator", "changeStreamPreAndPostImages"]
        where request.body.contains(option) {
            throw OsmanthusError(ViewDefinition.optionNotSupportedOnView, "'\(option)' is not supported on a view")
        }
        let view = try ViewDefinition.parse(request.body, db: db, name: name, in: "create")
        if try context.server.database.listCollections(in: db).contains(where: { $0.name == name }) {
            throw OsmanthusError(.namespaceExists, "Collection \(db).\(name) already exists.")
        }
        do {
            try context.server.views.save(view, replacing: false)
        } catch let error as OsmanthusError where error.code == .duplicateKey {
            throw OsmanthusError(.namespaceExists, "Namespace \(view.namespace) already exists (a view)")
        }
        return [:]
    }

    private static func find(_ request: CommandRequest, _ context: CommandContext, _ view: ViewDefinition) throws
        -> Document
    {
        let body = request.body
        var stages: [Document] = []
        if let filter = try body.commandDocument("filter", in: "find"), !filter.isEmpty { stages.append(["$match": .document(filter)]) }
        if let sort = try body.commandDocument("sort", in: "find"), !sort.isEmpty { stages.append(["$sort": .document(sort)]) }
        if let skip = try body.commandInt("skip", in: "find"), skip > 0 { stages.append(["$skip": .int64(Int64(skip))]) }
        let limit = try body.commandInt("limit", in: "find") ?? 0
        if limit != 0 { stages.append(["$limit": .int64(Int64(abs(limit)))]) }
        if let projection = try body.commandDocument("projection", in: "find"), !projection.isEmpty {
            stages.append(["$project": .document(projection)])
        }
        let batchSize = try CursorReply.batchSize(body.commandInt("batchSize", in: "find"), command: "find")
        let singleBatch = try body.commandBool("singleBatch", in: "find") ?? false || limit < 0
        return try open(view, stages, context, body, batchSize: batchSize, singleBatch: singleBatch)
    }

    private static func aggregate(_ request: CommandRequest, _ context: CommandContext, _ view: ViewDefinition) throws
        -> Document
    {
        let body = request.body
        guard let stages = try body.commandDocuments("pipeline", in: "aggregate") else {
            throw OsmanthusError(.failedToParse, "BSON field 'aggregate.pipeline' is missing but a required field")
        }
        if stages.first?.keys.first == "$changeStream" {
            throw OsmanthusError(ViewDefinition.commandNotSupportedOnView, "$changeStream is not supported on views")
        }
        if try body.commandBool("explain", in: "aggregate") == true {
            let (source, pipeline) = try context.server.views.resolve(view)
            var reply = try context.server.database.collection(source, in: view.db).explainAggregate(pipeline + stages)
            reply.append("explainVersion", "1")
            return reply
        }
        let (batchSize, _) = try AggregateCommand.cursorAndOptions(body)
        return try open(view, stages, context, body, batchSize: batchSize, singleBatch: false)
    }

    private static func count(_ request: CommandRequest, _ context: CommandContext, _ view: ViewDefinition) throws
        -> Document
    {
        let body = request.body
        var stages: [Document] = []
        if let query = try body.commandDocument("query", in: "count"), !query.isEmpty { stages.append(["$match": .document(query)]) }
        if let skip = try body.commandInt("skip", in: "count"), skip > 0 { stages.append(["$skip": .int64(Int64(skip))]) }
        if let limit = try body.commandInt("limit", in: "count"), limit != 0 { stages.append(["$limit": .int64(Int64(abs(limit)))]) }
        stages.append(["$count": "n"])
        let n = try results(view, stages, context).first?["n"] ?? .int32(0)
        return ["n": n]
    }

    /// The distinct values of `key`: an array field counts each element, as distinct does.
    private static func distinct(_ request: CommandRequest, _ context: CommandContext, _ view: ViewDefinition) throws
        -> Document
    {
        let body = request.body
        guard let key = try body.commandString("key", in: "distinct") else {
            throw OsmanthusError(.failedToParse, "BSON field 'distinct.key' is missing but a required field")
        }
        var stages: [Document] = []
        if let query = try body.commandDocument("query", in: "distinct"), !query.isEmpty { stages.append(["$match": .document(query)]) }
        stages.append(["$unwind": .string("$" + key)])
        stages.append(["$group": ["_id": .string("$" + key)]])
        stages.append(["$sort": ["_id": 1]])
        return ["values": .array(try results(view, stages, context).compactMap { $0["_id"] })]
    }

    private static func drop(_ request: CommandRequest, _ context: CommandContext, _ view: ViewDefinition) throws -> Document {
        context.server.cursors.kill(namespace: view.namespace)
        try context.server.views.drop(view)
        return ["ns": .string(view.namespace)]
    }

    /// collMod on a view changes its `viewOn` and `pipeline` (both given), nothing else.
    private static func collMod(_ request: CommandRequest, _ context: CommandContext, _ view: ViewDefinition) throws
        -> Document
    {
        for key in request.body.keys.dropFirst()
        where !["viewOn", "pipeline", "lsid", "$db", "$clusterTime", "writeConcern", "comment", "$readPreference"].contains(key) {
            throw OsmanthusError(ViewDefinition.optionNotSupportedOnView, "option not supported on a view: \(key)")
        }
        let changed = try ViewDefinition.parse(request.body, db: view.db, name: view.name, in: "collMod")
        try context.server.views.save(changed, replacing: true)
        return [:]
    }

    /// The view's documents after `stages`, read in full (count and distinct answer in one reply).
    private static func results(_ view: ViewDefinition, _ stages: [Document], _ context: CommandContext) throws -> [Document] {
        let cursor = try aggregate(view, stages, context)
        var documents: [Document] = []
        while let document = try cursor.next() { documents.append(document) }
        return documents
    }

    /// The view's pipeline and then `stages`, over the collection the view finally reads (in the
    /// command's transaction, if any).
    private static func aggregate(_ view: ViewDefinition, _ stages: [Document], _ context: CommandContext) throws
        -> AggregationCursor
    {
        let (source, pipeline) = try context.server.views.resolve(view)
        if let transaction = context.transaction {
            return try transaction.collection(source, in: view.db).aggregate(pipeline + stages)
        }
        return try context.server.database.collection(source, in: view.db).aggregate(pipeline + stages)
    }

    /// A cursor over the view's documents after `stages`, named by the view.
    private static func open(
        _ view: ViewDefinition, _ stages: [Document], _ context: CommandContext, _ body: Document, batchSize: Int?,
        singleBatch: Bool
    ) throws -> Document {
        context.server.statistics.count(.query)
        let results = try aggregate(view, stages, context)
        let cursor = ServerCursor(
            namespace: view.namespace, connectionID: context.connection.id, sessionID: body["lsid"],
            source: AggregateCommand.PipelineSource(results))
        return try CursorReply.first(cursor, batchSize: batchSize, singleBatch: singleBatch, server: context.server)
    }
}
