import Osmanthus
import OsmanthusBSON

/// `aggregate` with a first stage `$changeStream`, its getMores (awaitData: one that finds
/// nothing parks, waiting for a commit up to maxTimeMS with no thread held — see
/// `ChangeStreamWait`), and `collMod` for pre/post images (SPEC.md §16).
enum ChangeStreamCommands {
    static let all: [Command] = [
        Command(name: "collMod", help: "changes collection options (changeStreamPreAndPostImages)", run: collMod),
        Command(
            name: "changeLogRetention", help: "shows or sets the database's change-history retention; trim: true trims now",
            run: changeLogRetention),
    ]

    /// `{changeLogRetention: 1, maxAgeSeconds?, maxBytes?, trim?}` on a database (Osmanthus's own):
    /// sets the given limits, trims at once with `trim: true`, and answers the retention in force.
    static func changeLogRetention(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let db = request.databaseName
        try Namespace.validateDatabase(db)
        let database = context.server.database
        var retention = database.changeLogRetention(of: db)
        let maxAge = try request.body.commandInt("maxAgeSeconds", in: "changeLogRetention")
        let maxBytes = try request.body.commandInt("maxBytes", in: "changeLogRetention")
        if maxAge != nil || maxBytes != nil {
            if let maxAge { retention.maxAgeSeconds = Int64(maxAge) }
            if let maxBytes { retention.maxBytes = Int64(maxBytes) }
            try database.setChangeLogRetention(retention, of: db)
        }
        var reply: Document = ["maxAgeSeconds": .int64(retention.maxAgeSeconds), "maxBytes": .int64(retention.maxBytes)]
        if try request.body.commandBool("trim", in: "changeLogRetention") == true {
            reply.append("trimmed", .int64(Int64(try database.trimChangeLog())))
        }
        return reply
    }

    /// How long a getMore waits for events when the client gives no maxTimeMS (MongoDB's 1 s).
    static let defaultAwaitMillis: Int64 = 1000

    /// The reply of an aggregate whose pipeline starts with `$changeStream`; nil for any other
    /// aggregate.
    static func openIfChangeStream(_ request: CommandRequest, _ context: CommandContext) throws -> Document? {
        let body = request.body
        guard let stages = try? body.commandDocuments("pipeline", in: "aggregate"), let first = stages.first,
            first.firstField?.key == "$changeStream"
        else { return nil }
        guard case .document(let spec)? = first["$changeStream"] else {
            throw OsmanthusError(.failedToParse, "the $changeStream stage must be an object")
        }
        let db = request.databaseName
        let scope: ChangeStreamScope
        let namespace: String
        switch request.argument {
        case .string(let name):
            try Namespace.validateCollection(name, in: db)
            scope = .collection(database: db, name: name)
            namespace = request.namespace(name)
        case let arg where arg.isNumber && arg.exactInt64 == 1:
            if try spec.commandBool("allChangesForCluster", in: "$changeStream") == true {
                guard db == "admin" else {
                    throw OsmanthusError(.invalidOptions, "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database")
                }
                scope = .cluster
            } else {
                guard db != "admin" else {
                    throw OsmanthusError(.invalidNamespace, "$changeStream may not be opened on the internal admin database")
                }
                scope = .database(db)
            }
            namespace = request.namespace("$cmd.aggregate")
        default:
            throw OsmanthusError(.invalidNamespace, "aggregate's first field must be a collection name or 1")
        }
        var options = try self.options(spec)
        options.pipeline = Array(stages.dropFirst())
        if options.pipeline.contains(where: { $0.firstField?.key == "$changeStream" }) {
            throw OsmanthusError(.badValue, "$changeStream is only valid as the first stage in a pipeline")
        }
        let cursorOptions = try body.commandDocument("cursor", in: "aggregate") ?? Document()
        let batchSize = try CursorReply.batchSize(cursorOptions.commandInt("batchSize", in: "aggregate.cursor"), command: "aggregate.cursor")
        context.server.statistics.count(.query)
        var reader = try context.server.database.changeStreamReader(scope, options: options)
        // The first batch never waits, as MongoDB's does not.
        let batch = try reader.poll(limit: batchSize ?? CursorReply.defaultFirstBatchSize)
        let id = reader.isFinished ? 0 : context.server.changeStreams.register(
            reader, namespace: namespace, session: request.body["lsid"])
        return reply(id: id, namespace: namespace, batchKey: "firstBatch", batch: batch, reader: reader)
    }

    /// The getMore of a change-stream cursor; nil when `id` is not one. When it finds nothing
    /// and may wait, it answers `.parked` if the caller can park it (`context.canPark`: a
    /// connection running it on the pool), else it answers the empty batch at once.
    static func getMore(id: Int64, collection: String, _ request: CommandRequest, _ context: CommandContext) throws
        -> CommandReply?
    {
        let namespace = request.namespace(collection)
        let table = context.server.changeStreams
        guard var reader = try table.checkOut(id: id, namespace: namespace) else { return nil }
        let limit: Int
        let awaitMillis: Int64
        let generation: UInt64
        let batch: [ChangeEvent]
        do {
            let batchSize = try CursorReply.batchSize(
                CommandFields.int(request.fields.batchSize, "batchSize", in: "getMore"), command: "getMore")
            limit = batchSize.flatMap { $0 > 0 ? $0 : nil } ?? 1000
            awaitMillis = Int64(
                try CommandFields.int(request.fields.maxTimeMS, "maxTimeMS", in: "getMore") ?? Int(defaultAwaitMillis))
            try context.operation?.checkForInterrupt()
            // Read before the poll: a commit between the two wakes the wait at once.
            generation = context.server.database.changeGeneration
            batch = try reader.poll(limit: limit)
        } catch {
            table.checkIn(id: id, nil)
            throw error
        }
        if batch.isEmpty, !reader.isFinished, awaitMillis > 0, context.canPark, context.transaction == nil {
            let wait = ChangeStreamWait(
                id: id, namespace: namespace, limit: limit, deadlineMillis: WallClock.nowMilliseconds() + awaitMillis,
                reader: reader, generation: generation)
            guard table.park(wait) else {
                throw OsmanthusError(ChangeStreamWait.cursorKilled, "cursor id \(id) was killed")
            }
            return .parked(wait)
        }
        table.checkIn(id: id, reader)
        return .document(reply(id: reader.isFinished ? 0 : id, namespace: namespace, batchKey: "nextBatch", batch: batch, reader: reader))
    }

    /// A parked getMore once its wait ended: polls again (on a command thread). Answers the
    /// reply (`ok` included) when there is a batch, the stream finished or the deadline passed; nil when nothing
    /// came yet and time is left (the wait was woken by a commit the stream does not see):
    /// the caller parks it again. Throws CursorKilled when the stream was closed meanwhile.
    static func resume(_ wait: ChangeStreamWait, server: ServerCore, operation: RunningOperation?) throws -> Document? {
        let table = server.changeStreams
        guard !wait.isKilled, var reader = wait.takeReader() else {
            throw OsmanthusError(ChangeStreamWait.cursorKilled, "cursor id \(wait.id) was killed while it waited")
        }
        let generation = server.database.changeGeneration
        let batch: [ChangeEvent]
        do {
            try operation?.checkForInterrupt()
            batch = try reader.poll(limit: wait.limit)
        } catch {
            table.checkIn(id: wait.id, nil)
            throw error
        }
        if batch.isEmpty, !reader.isFinished, WallClock.nowMilliseconds() < wait.deadlineMillis {
            wait.rearm(reader, generation: generation)
            return nil
        }
        table.checkIn(id: wait.id, reader)
        // The whole reply: it goes to the client as it is, not through the dispatcher.
        var answer = reply(
            id: reader.isFinished ? 0 : wait.id, namespace: wait.namespace, batchKey: "nextBatch", batch: batch,
            reader: reader)
        answer.append("ok", 1.0)
        return answer
    }

    static func reply(id: Int64, namespace: String, batchKey: String, batch: [ChangeEvent], reader: ChangeStreamReader)
        -> Document
    {
        var cursor = Document()
        cursor.append(batchKey, .array(batch.map { .document($0.document) }))
        cursor.append("postBatchResumeToken", .document(reader.postBatchResumeToken))
        cursor.append("id", .int64(id))
        cursor.append("ns", .string(namespace))
        return ["cursor": .document(cursor)]
    }

    static func options(_ spec: Document) throws -> ChangeStreamOptions {
        var options = ChangeStreamOptions()
        for (key, value) in spec {
            switch key {
            case "fullDocument":
                guard let mode = value.stringValue.flatMap(ChangeStreamOptions.FullDocument.init(rawValue:)) else {
                    throw OsmanthusError(.badValue, "unknown fullDocument mode \(value)")
                }
                options.fullDocument = mode
            case "fullDocumentBeforeChange":
                guard let mode = value.stringValue.flatMap(ChangeStreamOptions.FullDocumentBeforeChange.init(rawValue:))
                else { throw OsmanthusError(.badValue, "unknown fullDocumentBeforeChange mode \(value)") }
                options.fullDocumentBeforeChange = mode
            case "resumeAfter", "startAfter":
                guard case .document(let token) = value else {
                    throw OsmanthusError(.typeMismatch, "\(key) must be a resume token object")
                }
                if key == "resumeAfter" { options.resumeAfter = token } else { options.startAfter = token }
            case "startAtOperationTime":
                options.startAtOperationTime = value
            case "showExpandedEvents":
                guard case .bool(let show) = value else {
                    throw OsmanthusError(.typeMismatch, "showExpandedEvents must be a boolean")
                }
                options.showExpandedEvents = show
            case "allChangesForCluster":
                break
            default:
                throw OsmanthusError(.failedToParse, "unknown $changeStream option '\(key)'")
            }
        }
        return options
    }

    /// `changeStreamPreAndPostImages: {enabled: <bool>}` of create or collMod; nil when absent.
    static func preAndPostImages(_ body: Document, in command: String) throws -> Bool? {
        guard let spec = try body.commandDocument("changeStreamPreAndPostImages", in: command) else { return nil }
        guard let enabled = try spec.commandBool("enabled", in: command + ".changeStreamPreAndPostImages") else {
            throw OsmanthusError(.failedToParse, "changeStreamPreAndPostImages needs 'enabled'")
        }
        return enabled
    }

    static func collMod(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        for (key, _) in request.body.dropFirst() where !Self.ignoredFields.contains(key)
            && key != "changeStreamPreAndPostImages"
        {
            throw OsmanthusError(.notImplemented, "collMod '\(key)' is not supported yet")
        }
        if let enabled = try preAndPostImages(request.body, in: "collMod") {
            try context.server.database.setChangeStreamPreAndPostImages(enabled, for: name, in: request.databaseName)
        }
        return [:]
    }

    /// Driver fields a command may carry.
    static let ignoredFields: Set<String> = [
        "$db", "lsid", "$clusterTime", "txnNumber", "$readPreference", "readConcern", "writeConcern", "apiVersion",
        "apiStrict", "apiDeprecationErrors", "comment", "maxTimeMS",
    ]
}
