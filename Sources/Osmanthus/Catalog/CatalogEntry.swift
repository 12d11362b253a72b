import OsmanthusBSON

/// One collection as the catalog records it: its namespace, its permanent numeric id (the prefix
/// of its documents' keys; never reused) and its layout options.
struct CatalogEntry: Sendable, Equatable {
    var database: String
    var name: String
    var id: UInt32
    var options: CollectionOptions
    var created: Int64

    var namespace: String { database + "." + name }

    func encode() -> Document {
        var opts = Document()
        if let pk = options.partitionKey { opts.append("partitionKey", .string(pk)) }
        if let sk = options.sortKey { opts.append("sortKey", .string(sk)) }
        opts.append("partitions", .int32(Int32(options.partitions)))
        if options.changeStreamPreAndPostImages { opts.append("changeStreamPreAndPostImages", .bool(true)) }
        return [
            "db": .string(database), "name": .string(name), "id": .int64(Int64(id)),
            "options": .document(opts), "created": .datetime(created),
        ]
    }

    init(database: String, name: String, id: UInt32, options: CollectionOptions, created: Int64) {
        self.database = database
        self.name = name
        self.id = id
        self.options = options
        self.created = created
    }

    init(decoding doc: Document) throws {
        guard case .string(let db)? = doc["db"], case .string(let name)? = doc["name"],
            case .int64(let id)? = doc["id"], let raw = UInt32(exactly: id),
            case .document(let opts)? = doc["options"]
        else {
            throw OsmanthusError(.internalError, "damaged catalog entry: \(doc)")
        }
        var options = CollectionOptions()
        options.partitionKey = opts["partitionKey"]?.stringValue
        options.sortKey = opts["sortKey"]?.stringValue
        if case .int32(let p)? = opts["partitions"] { options.partitions = Int(p) }
        options.changeStreamPreAndPostImages = opts["changeStreamPreAndPostImages"]?.boolValue ?? false
        self.init(
            database: db, name: name, id: raw, options: options, created: doc["created"]?.datetimeValue ?? 0)
    }

    /// The engine key of this entry.
    static func key(database: String, name: String) -> [UInt8] {
        var e = KeyEncoder()
        e.appendRaw([KeyFormat.Space.catalog.rawValue])
        e.appendEscaped(Array(database.utf8))
        e.appendEscaped(Array(name.utf8))
        return e.bytes
    }

    var key: [UInt8] { Self.key(database: database, name: name) }

    /// The prefix of every document key of this collection.
    var documentPrefix: [UInt8] {
        [KeyFormat.Space.documents.rawValue, UInt8(id >> 24), UInt8(truncatingIfNeeded: id >> 16),
         UInt8(truncatingIfNeeded: id >> 8), UInt8(truncatingIfNeeded: id)]
    }
}
