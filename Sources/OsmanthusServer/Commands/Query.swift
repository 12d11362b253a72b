import Osmanthus
import OsmanthusBSON

/// Reads: find with server-side cursors, getMore, killCursors, count, distinct, and aggregate
/// (in AggregateCommand.swift).
enum QueryCommands {
    static let all: [Command] = [
        Command(name: "find", help: "queries a collection; returns a cursor", reply: find),
        Command(name: "getMore", help: "the next batch of a cursor", reply: getMore),
        Command(name: "killCursors", help: "closes cursors", run: killCursors),
        Command(name: "count", help: "counts matching documents", run: count),
        Command(name: "distinct", help: "the distinct values of a field", run: distinct),
        AggregateCommand.command,
    ]

    /// The documents of an embedded-API cursor, for a server cursor.
    final class CollectionSource: InterruptibleSource {
        let cursor: Cursor
        var operation: RunningOperation?
        init(_ cursor: Cursor) {
            self.cursor = cursor
            cursor.interruptCheck = { [weak self] in try self?.operation?.checkForInterrupt() }
        }
        func next() throws -> Document? { try cursor.next() }
    }

    static func find(_ request: CommandRequest, _ context: CommandContext) throws -> CommandReply {
        // An inline point read's collection is in the connection's cache, its names checked
        // and its namespace built when it was cached.
        let known: (collection: Collection, namespace: String)?
        if context.isInlinePointRead, case .string(let argument) = request.argument {
            known = context.collections?.validated(argument, in: request.databaseName)
        } else {
            known = nil
        }
        let name = try known?.collection.name ?? request.collectionName()
        if known == nil { try Namespace.validateCollection(name, in: request.databaseName) }
        context.server.statistics.count(.query)
        let fields = request.fields
        var options = FindOptions()
        options.sort = try CommandFields.document(fields.sort, "sort", in: "find")
        options.projection = try CommandFields.document(fields.projection, "projection", in: "find")
        options.skip = try nonNegative(CommandFields.int(fields.skip, "skip", in: "find"), "skip")
        options.limit = try nonNegative(CommandFields.int(fields.limit, "limit", in: "find"), "limit")
        options.hint = try hint(fields.hint)
        let batchSize = try CursorReply.batchSize(CommandFields.int(fields.batchSize, "batchSize", in: "find"), command: "find")
        let singleBatch = try CommandFields.bool(fields.singleBatch, "singleBatch", in: "find") ?? false
        if try CommandFields.bool(fields.tailable, "tailable", in: "find") == true {
            throw OsmanthusError(.notImplemented, "tailable cursors are not supported yet")
        }
        let filter = try CommandFields.document(fields.filter, "filter", in: "find") ?? Document()
        if context.transaction == nil, options.sort == nil, options.projection == nil, options.skip == 0,
            options.hint == nil, batchSize != 0,
            let found = try pointRead(
                filter, collection: known?.collection ?? context.collection(name, in: request.databaseName),
                known: context.isInlinePointRead)
        {
            return .pointRead(namespace: known?.namespace ?? request.namespace(name), document: found)
        }
        let source: any DocumentSource
        if let transaction = context.transaction {
            // The transaction's view is read whole now: the transaction may be used by one
            // command at a time only, and a getMore runs outside it.
            source = ArrayDocumentSource(
                try transaction.collection(name, in: request.databaseName).find(filter, options: options))
        } else {
            let collection = context.server.database.collection(name, in: request.databaseName)
            source = CollectionSource(try collection.find(filter, options: options))
        }
        let cursor = ServerCursor(
            namespace: request.namespace(name), connectionID: context.connection.id, sessionID: fields.lsid,
            source: source)
        // With a limit, the first batch need not be bigger than the limit.
        let firstBatch = options.limit > 0 ? min(batchSize ?? CursorReply.defaultFirstBatchSize, options.limit) : batchSize
        return .cursor(
            try CursorReply.firstBatch(
                cursor, batchSize: firstBatch, singleBatch: singleBatch, server: context.server,
                operation: context.operation))
    }

    /// The answer of `{_id: v}` by one engine get (no filter, snapshot or cursor): `.some(nil)`
    /// when no document has that `_id`; nil when the filter is not one the collection answers so.
    /// `known`: `InlinePolicy` has just checked `isPointRead` on this collection and filter.
    static func pointRead(_ filter: Document, collection: Collection, known: Bool = false) throws -> Document?? {
        guard known || collection.isPointRead(filter), let id = filter["_id"] else { return nil }
        return .some(try collection.findOne(byId: id))
    }

    /// `hint`: an index name or key pattern.
    static func hint(_ value: BSONValue?) throws -> BSONValue? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)? where s.isEmpty: return nil
        case .document(let d)? where d.isEmpty: return nil
        case let h? where h.stringValue != nil || h.documentValue != nil: return h
        case let h?: throw OsmanthusError(.failedToParse, "hint must be a string or a document, not \(h.type.name)")
        }
    }

    static func getMore(_ request: CommandRequest, _ context: CommandContext) throws -> CommandReply {
        guard let id = request.argument.exactInt64, request.argument.isNumber else {
            throw OsmanthusError(
                .typeMismatch, "BSON field 'getMore.getMore' is the wrong type '\(request.argument.type.name)', expected type 'long'")
        }
        guard let collection = try CommandFields.string(request.fields.collection, "collection", in: "getMore") else {
            throw OsmanthusError(.failedToParse, "BSON field 'getMore.collection' is missing but a required field")
        }
        context.server.statistics.count(.getmore)
        if let reply = try ChangeStreamCommands.getMore(id: id, collection: collection, request, context) { return reply }
        let batchSize = try CursorReply.batchSize(
            CommandFields.int(request.fields.batchSize, "batchSize", in: "getMore"), command: "getMore")
        let cursors = context.server.cursors
        let cursor = try cursors.checkOut(id: id, namespace: request.namespace(collection))
        let batch: [Document]
        do {
            batch = try cursor.nextBatch(maxCount: batchSize.flatMap { $0 > 0 ? $0 : nil }, operation: context.operation)
        } catch {
            cursors.checkIn(cursor, close: true)
            throw error
        }
        let exhausted = cursor.isExhausted
        cursors.checkIn(cursor)
        return .cursor(.init(id: exhausted ? 0 : id, namespace: cursor.namespace, batchKey: "nextBatch", batch: batch))
    }

    static func killCursors(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        guard let values = try request.body.commandArray("cursors", in: "killCursors") else {
            throw OsmanthusError(.failedToParse, "BSON field 'killCursors.cursors' is missing but a required field")
        }
        let ids = try values.map { value -> Int64 in
            guard case .int64(let id) = value else {
                throw OsmanthusError(.typeMismatch, "killCursors.cursors holds a \(value.type.name), expected long")
            }
            return id
        }
        let streams = context.server.changeStreams.kill(ids: ids, namespace: request.namespace(name))
        let (killed, notFound) = context.server.cursors.kill(
            ids: ids.filter { !streams.contains($0) }, namespace: request.namespace(name))
        return [
            "cursorsKilled": .array((streams + killed).map { .int64($0) }),
            "cursorsNotFound": .array(notFound.map { .int64($0) }),
            "cursorsAlive": [],
            "cursorsUnknown": [],
        ]
    }

    static func count(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        context.server.statistics.count(.query)
        let body = request.body
        let filter = try body.commandDocument("query", in: "count") ?? Document()
        let skip = try nonNegative(body.commandInt("skip", in: "count"), "skip")
        // A negative limit counts like its absolute value (MongoDB's rule).
        let limit = abs(try body.commandInt("limit", in: "count") ?? 0)
        // Never inside a transaction: SessionGate refuses count there (263), as MongoDB does.
        let n = try context.server.database.collection(name, in: request.databaseName)
            .count(filter, skip: skip, limit: limit)
        return ["n": integer(n)]
    }

    static func distinct(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        context.server.statistics.count(.query)
        guard let key = try request.body.commandString("key", in: "distinct") else {
            throw OsmanthusError(.failedToParse, "BSON field 'distinct.key' is missing but a required field")
        }
        let filter = try request.body.commandDocument("query", in: "distinct") ?? Document()
        let values =
            if let transaction = context.transaction {
                try transaction.collection(name, in: request.databaseName).distinct(key, filter: filter)
            } else {
                try context.server.database.collection(name, in: request.databaseName).distinct(key, filter: filter)
            }
        return ["values": .array(values)]
    }

    private static func nonNegative(_ value: Int?, _ field: String) throws -> Int {
        guard let value else { return 0 }
        guard value >= 0 else { throw OsmanthusError(.badValue, "\(field) must be non-negative, got \(value)") }
        return value
    }

    /// int32 when it fits, as MongoDB answers counts.
    static func integer(_ n: Int) -> BSONValue {
        if let small = Int32(exactly: n) { return .int32(small) }
        return .int64(Int64(n))
    }
}
