import Osmanthus
import OsmanthusBSON

/// Databases and collections: create, drop, list, rename, statistics, and the `_id` index
/// secondary indexes.
enum CatalogCommands {
    static let all: [Command] = [
        Command(name: "create", help: "creates a collection", run: create),
        Command(name: "drop", help: "drops a collection", run: drop),
        Command(name: "dropDatabase", help: "drops a database", run: dropDatabase),
        Command(name: "listDatabases", adminOnly: true, help: "the databases", run: listDatabases),
        Command(name: "listCollections", help: "a database's collections; returns a cursor", run: listCollections),
        Command(name: "renameCollection", adminOnly: true, help: "renames or moves a collection", run: renameCollection),
        Command(name: "listIndexes", help: "a collection's indexes; returns a cursor", run: listIndexes),
        Command(name: "createIndexes", help: "creates indexes (built online)", run: createIndexes),
        Command(name: "dropIndexes", aliases: ["deleteIndexes"], help: "drops indexes by name, key pattern or \"*\"", run: dropIndexes),
        Command(name: "dbStats", help: "a database's size and counts", run: dbStats),
        Command(name: "collStats", help: "a collection's size and counts", run: collStats),
    ]

    /// The one index every collection has.
    static let idIndex: Document = ["v": 2, "key": ["_id": 1], "name": "_id_"]

    static func create(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        if request.body.contains("viewOn") { return try ViewCommands.create(request, context) }
        for option in ["timeseries", "clusteredIndex", "encryptedFields"] where request.body.contains(option) {
            throw OsmanthusError(.notImplemented, "create with '\(option)' is not supported yet")
        }
        if try request.body.commandBool("capped", in: "create") == true {
            throw OsmanthusError(.notImplemented, "capped collections are not supported yet")
        }
        var options = CollectionOptions()
        options.changeStreamPreAndPostImages = try ChangeStreamCommands.preAndPostImages(request.body, in: "create") ?? false
        _ = try context.server.database.createCollection(name, in: request.databaseName, options: options)
        return [:]
    }

    static func drop(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        context.server.cursors.kill(namespace: request.namespace(name))
        // Dropping a collection that does not exist succeeds, as in MongoDB 7.0.
        guard try context.server.database.dropCollection(name, in: request.databaseName) else { return [:] }
        return ["ns": .string(request.namespace(name)), "nIndexesWas": 1]
    }

    static func dropDatabase(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try Namespace.validateDatabase(request.databaseName)
        context.server.cursors.kill(namespace: request.databaseName + ".", prefix: true)
        try context.server.database.dropDatabase(request.databaseName)
        return ["dropped": .string(request.databaseName)]
    }

    static func listDatabases(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let filter = try request.body.commandDocument("filter", in: "listDatabases") ?? Document()
        let nameOnly = try request.body.commandBool("nameOnly", in: "listDatabases") ?? false
        let authorizedOnly = try request.body.commandBool("authorizedDatabases", in: "listDatabases")
        // With authentication, a user without an any-database read role sees only its databases,
        // unless it asks for all of them (authorizedDatabases: false), which it may not.
        var allowed: Set<String>? = nil
        if context.server.configuration.authenticationRequired {
            allowed = Authorization.listableDatabases(context.connection.auth.authorized)
            if allowed != nil, authorizedOnly == false {
                throw OsmanthusError(.unauthorized, "not authorized on admin to execute command { listDatabases: 1 }")
            }
        }
        var databases: [BSONValue] = []
        var total: Int64 = 0
        for info in try context.server.database.listDatabases() where allowed?.contains(info.name) ?? true {
            let entry: Document =
                nameOnly
                ? ["name": .string(info.name)]
                : ["name": .string(info.name), "sizeOnDisk": .int64(info.sizeOnDisk), "empty": .bool(info.empty)]
            guard try NameFilter.matches(entry, filter) else { continue }
            total += info.sizeOnDisk
            databases.append(.document(entry))
        }
        if nameOnly { return ["databases": .array(databases)] }
        return ["databases": .array(databases), "totalSize": .int64(total), "totalSizeMb": .int64(total / (1024 * 1024))]
    }

    static func listCollections(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try Namespace.validateDatabase(request.databaseName)
        let body = request.body
        let filter = try body.commandDocument("filter", in: "listCollections") ?? Document()
        let nameOnly = try body.commandBool("nameOnly", in: "listCollections") ?? false
        let batchSize = try CursorReply.batchSize(
            body.commandDocument("cursor", in: "listCollections")?.commandInt("batchSize", in: "listCollections.cursor"),
            command: "listCollections.cursor")
        var entries: [Document] = []
        for info in try context.server.database.listCollections(in: request.databaseName) {
            let entry: Document =
                nameOnly
                ? ["name": .string(info.name), "type": .string(info.type)]
                : [
                    "name": .string(info.name), "type": .string(info.type), "options": .document(info.options),
                    "info": info.uuid.map { ["readOnly": false, "uuid": $0] } ?? ["readOnly": false],
                    "idIndex": .document(idIndex),
                ]
            if try NameFilter.matches(entry, filter) { entries.append(entry) }
        }
        for view in context.server.views.views(in: request.databaseName) {
            let options: Document = ["viewOn": .string(view.viewOn), "pipeline": .array(view.pipeline.map { .document($0) })]
            let entry: Document =
                nameOnly
                ? ["name": .string(view.name), "type": "view"]
                : ["name": .string(view.name), "type": "view", "options": .document(options), "info": ["readOnly": true]]
            if try NameFilter.matches(entry, filter) { entries.append(entry) }
        }
        let cursor = ServerCursor(
            namespace: "\(request.databaseName).$cmd.listCollections", connectionID: context.connection.id,
            sessionID: body["lsid"], source: ArrayDocumentSource(entries))
        return try CursorReply.first(cursor, batchSize: batchSize ?? Int.max, server: context.server)
    }

    static func renameCollection(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard case .string(let source) = request.argument else {
            throw OsmanthusError(.typeMismatch, "renameCollection takes the source namespace as a string")
        }
        guard let target = try request.body.commandString("to", in: "renameCollection") else {
            throw OsmanthusError(.failedToParse, "BSON field 'renameCollection.to' is missing but a required field")
        }
        let from = try Namespace.split(source)
        let to = try Namespace.split(target)
        let dropTarget = try request.body.commandBool("dropTarget", in: "renameCollection") ?? false
        guard source != target else {
            throw OsmanthusError(.illegalOperation, "Can't rename a collection to itself")
        }
        context.server.cursors.kill(namespace: source)
        try context.server.database.renameCollection(
            from.collection, in: from.database, to: to.collection, in: to.database, dropTarget: dropTarget)
        return [:]
    }

    static func listIndexes(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        try requireCollection(name, request, context)
        let indexes = try context.server.database.collection(name, in: request.databaseName).listIndexes()
        return CursorReply.complete(indexes, namespace: request.namespace(name))
    }

    static func createIndexes(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        guard let indexes = try request.body.commandDocuments("indexes", in: "createIndexes"), !indexes.isEmpty else {
            throw OsmanthusError(.failedToParse, "Must specify at least one index to create")
        }
        let database = context.server.database
        let existed = try database.listCollections(in: request.databaseName).contains { $0.name == name }
        let collection = database.collection(name, in: request.databaseName)
        let before = existed ? try collection.listIndexes().count : 1
        for spec in indexes {
            guard case .document(let keys)? = spec["key"] else {
                throw OsmanthusError(.failedToParse, "The 'key' field is a required property of an index specification")
            }
            if keys == ["_id": 1] || spec["name"] == .string("_id_") { continue }
            var options = IndexOptions(name: spec["name"]?.stringValue)
            options.unique = spec["unique"].map(truthy) ?? false
            options.sparse = spec["sparse"].map(truthy) ?? false
            options.partialFilterExpression = spec["partialFilterExpression"]?.documentValue
            if let ttl = spec["expireAfterSeconds"] {
                guard let seconds = ttl.exactInt64 else {
                    throw OsmanthusError(.cannotCreateIndex, "TTL index 'expireAfterSeconds' option must be numeric")
                }
                options.expireAfterSeconds = seconds
            }
            for unsupported in ["2dsphereIndexVersion", "textIndexVersion", "collation", "wildcardProjection"]
            where spec.contains(unsupported) {
                throw OsmanthusError(.notImplemented, "index option '\(unsupported)' is not supported")
            }
            try collection.createIndex(keys, options: options)
        }
        let after = try collection.listIndexes().count
        var reply: Document = [
            "numIndexesBefore": .int32(Int32(before)), "numIndexesAfter": .int32(Int32(after)),
            "createdCollectionAutomatically": .bool(!existed),
        ]
        if before == after { reply.append("note", "all indexes already exist") }
        return reply
    }

    static func truthy(_ v: BSONValue) -> Bool {
        switch v {
        case .bool(let b): b
        case .null, .undefined: false
        case let n where n.isNumber: n.numericDouble != 0
        default: true
        }
    }

    static func dropIndexes(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try requireCollection(name, request, context)
        let collection = context.server.database.collection(name, in: request.databaseName)
        let before = try collection.listIndexes().count
        switch request.body["index"] {
        case .string("*")?:
            try collection.dropIndexes()
        case .array(let names)?:
            for n in names { try collection.dropIndex(n) }
        case let value?:
            try collection.dropIndex(value)
        case nil:
            throw OsmanthusError(.failedToParse, "BSON field 'dropIndexes.index' is missing but a required field")
        }
        return ["nIndexesWas": .int32(Int32(before))]
    }

    static func dbStats(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try Namespace.validateDatabase(request.databaseName)
        let database = context.server.database
        let collections = try database.listCollections(in: request.databaseName)
        var objects = 0
        for info in collections {
            objects += try database.collection(info.name, in: request.databaseName).count()
        }
        let size = try database.listDatabases().first { $0.name == request.databaseName }?.sizeOnDisk ?? 0
        return [
            "db": .string(request.databaseName),
            "collections": .int64(Int64(collections.count)),
            "views": 0,
            "objects": .int64(Int64(objects)),
            "avgObjSize": .double(objects > 0 ? Double(size) / Double(objects) : 0),
            "dataSize": .double(Double(size)),
            "storageSize": .double(Double(size)),
            "indexes": .int64(Int64(collections.count)),
            "indexSize": 0.0,
            "totalSize": .double(Double(size)),
            "scaleFactor": 1,
        ]
    }

    static func collStats(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try request.collectionName()
        try Namespace.validateCollection(name, in: request.databaseName)
        try requireCollection(name, request, context)
        let cursor = try context.server.database.collection(name, in: request.databaseName).find()
        var count = 0
        var size = 0
        while let document = try cursor.next() {
            count += 1
            size += document.byteCount
        }
        return [
            "ns": .string(request.namespace(name)),
            "count": .int64(Int64(count)),
            "size": .int64(Int64(size)),
            "avgObjSize": .int64(count > 0 ? Int64(size / count) : 0),
            "storageSize": .int64(Int64(size)),
            "nindexes": 1,
            "indexSizes": ["_id_": 0],
            "totalIndexSize": 0,
            "totalSize": .int64(Int64(size)),
            "scaleFactor": 1,
        ]
    }

    private static func requireCollection(_ name: String, _ request: CommandRequest, _ context: CommandContext) throws {
        let exists = try context.server.database.listCollections(in: request.databaseName).contains { $0.name == name }
        guard exists else {
            throw OsmanthusError(.namespaceNotFound, "ns does not exist: \(request.namespace(name))")
        }
    }
}
