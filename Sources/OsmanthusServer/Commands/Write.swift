import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// insert, update, delete: batches of operations, each succeeding or failing on its own
/// (`writeErrors` with the failed item's index); `ordered` (the default) stops at the first
/// failure, unordered goes on.
enum WriteCommands {
    static let invalidLength = OsmanthusError.Code(16, "InvalidLength")

    static let all: [Command] = [
        Command(name: "insert", help: "inserts documents", reply: insert),
        Command(name: "update", help: "updates or replaces documents", reply: update),
        Command(name: "delete", help: "deletes documents", reply: delete),
    ]

    /// Where a write command's statements go: the collection, or its view in the session's
    /// transaction.
    private enum Target {
        case collection(Collection)
        case transaction(TransactionCollection)

        func update(_ filter: Document, _ update: Document, options: UpdateOptions) throws -> UpdateResult {
            switch self {
            case .collection(let c): try c.update(filter, update, options: options)
            case .transaction(let t): try t.update(filter, update, options: options)
            }
        }

        func delete(_ filter: Document, limit: Int) throws -> Int {
            switch self {
            case .collection(let c): try c.delete(filter, limit: limit)
            case .transaction(let t): try t.delete(filter, limit: limit)
            }
        }
    }

    /// The collection and the batch of a write command, checked.
    private static func prepare(
        _ request: CommandRequest, _ context: CommandContext, field: String, _ value: BSONValue?
    ) throws -> (collection: Target, items: [Document], ordered: Bool) {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        guard let items = try CommandFields.documents(value, field, in: request.name) else {
            throw OsmanthusError(.failedToParse, "BSON field '\(request.name).\(field)' is missing but a required field")
        }
        guard items.count >= 1, items.count <= WireFormat.maxWriteBatchSize else {
            throw OsmanthusError(
                invalidLength,
                "Write batch sizes must be between 1 and \(WireFormat.maxWriteBatchSize). Got \(items.count) operations.")
        }
        let ordered = try CommandFields.bool(request.fields.ordered, "ordered", in: request.name) ?? true
        if let transaction = context.transaction {
            return (.transaction(transaction.collection(name, in: request.databaseName)), items, ordered)
        }
        return (.collection(context.server.database.collection(name, in: request.databaseName)), items, ordered)
    }

    /// Runs `body` for each item; collects failures as writeErrors.
    private static func forEach(
        _ items: [Document], ordered: Bool, _ body: (Int, Document) throws -> Void
    ) -> [Document] {
        var writeErrors: [Document] = []
        for (index, item) in items.enumerated() {
            do {
                try body(index, item)
            } catch {
                writeErrors.append(ErrorMapping.writeError(index: index, for: error))
                if ordered { break }
            }
        }
        return writeErrors
    }

    /// Inserts in atomic runs through `insertMany` (one engine write batch per run).
    static func insert(_ request: CommandRequest, _ context: CommandContext) throws -> CommandReply {
        let (target, documents, ordered) = try prepare(request, context, field: "documents", request.fields.documents)
        context.server.statistics.count(.insert, Int64(documents.count))
        let collection: Collection
        switch target {
        case .collection(let plain):
            collection = plain
        case .transaction(let buffered):
            var inserted = 0
            let writeErrors = forEach(documents, ordered: ordered) { _, document in
                _ = try buffered.insertOne(document)
                inserted += 1
            }
            return reply(n: inserted, writeErrors: writeErrors)
        }
        let result = try collection.insertMany(documents, ordered: ordered)
        let writeErrors = result.errors.map { ErrorMapping.writeError(index: $0.index, for: $0.error) }
        return reply(n: result.insertedIds.count, writeErrors: writeErrors)
    }

    static func update(_ request: CommandRequest, _ context: CommandContext) throws -> CommandReply {
        let (collection, updates, ordered) = try prepare(request, context, field: "updates", request.fields.updates)
        var matched = 0
        var modified = 0
        var upserted: [BSONValue] = []
        let writeErrors = forEach(updates, ordered: ordered) { index, statement in
            context.server.statistics.count(.update)
            let command = "update.updates"
            guard let filter = try statement.commandDocument("q", in: command) else {
                throw OsmanthusError(.failedToParse, "BSON field 'update.updates.q' is missing but a required field")
            }
            guard let change = statement["u"] else {
                throw OsmanthusError(.failedToParse, "BSON field 'update.updates.u' is missing but a required field")
            }
            guard case .document(let update) = change else {
                if case .array = change {
                    throw OsmanthusError(.notImplemented, "pipeline-style updates are not supported yet")
                }
                throw OsmanthusError(.failedToParse, "Update argument must be either an object or an array")
            }
            var options = UpdateOptions()
            options.upsert = try statement.commandBool("upsert", in: command) ?? false
            options.multi = try statement.commandBool("multi", in: command) ?? false
            options.arrayFilters = try statement.commandDocuments("arrayFilters", in: command) ?? []
            if options.multi, let first = update.firstField, !first.key.hasPrefix("$") {
                throw OsmanthusError(.failedToParse, "multi update is not supported for replacement-style update")
            }
            let result = try collection.update(filter, update, options: options)
            matched += result.matchedCount
            modified += result.modifiedCount
            if let id = result.upsertedId {
                upserted.append(["index": .int32(Int32(index)), "_id": id])
            }
        }
        let n = Int32(clamping: matched + upserted.count)
        if upserted.isEmpty, writeErrors.isEmpty { return .written(n: n, nModified: Int32(clamping: modified)) }
        var reply: Document = ["n": .int32(n), "nModified": .int32(Int32(clamping: modified))]
        if !upserted.isEmpty { reply.append("upserted", .array(upserted)) }
        if !writeErrors.isEmpty { reply.append("writeErrors", .array(writeErrors.map { .document($0) })) }
        return .document(reply)
    }

    static func delete(_ request: CommandRequest, _ context: CommandContext) throws -> CommandReply {
        let (collection, deletes, ordered) = try prepare(request, context, field: "deletes", request.fields.deletes)
        var deleted = 0
        let writeErrors = forEach(deletes, ordered: ordered) { _, statement in
            context.server.statistics.count(.delete)
            let command = "delete.deletes"
            guard let filter = try statement.commandDocument("q", in: command) else {
                throw OsmanthusError(.failedToParse, "BSON field 'delete.deletes.q' is missing but a required field")
            }
            guard let limit = try statement.commandInt("limit", in: command) else {
                throw OsmanthusError(.failedToParse, "BSON field 'delete.deletes.limit' is missing but a required field")
            }
            guard limit == 0 || limit == 1 else {
                throw OsmanthusError(.failedToParse, "The limit field in delete objects must be 0 or 1. Got \(limit)")
            }
            deleted += try collection.delete(filter, limit: limit)
        }
        return reply(n: deleted, writeErrors: writeErrors)
    }

    /// `{n}`, or `{n, writeErrors}` built as a document.
    private static func reply(n: Int, writeErrors: [Document]) -> CommandReply {
        guard !writeErrors.isEmpty else { return .written(n: Int32(clamping: n)) }
        return .document(["n": .int32(Int32(clamping: n)), "writeErrors": .array(writeErrors.map { .document($0) })])
    }
}
