import OsmanthusBSON
import OsmanthusStorage

/// The change records of catalog changes other than drop and rename (SPEC.md §16.2, version 3):
/// a collection's creation with its options, an index built or dropped, a collection's options
/// changed. Streams show them only with `showExpandedEvents`, in MongoDB 6.0's shapes; a
/// point-in-time restore replays them, so a collection comes back with its real options and
/// indexes.
extension ChangeRecord {
    /// The index every collection has, as a create event's `idIndex` names it.
    static let idIndex: Document = ["v": .int32(2), "key": ["_id": .int32(1)], "name": "_id_"]

    /// `create`: `operationDescription` = `{idIndex, <the options that differ from the default>}`.
    static func create(_ entry: CatalogEntry, wallMillis: Int64) -> ChangeRecord {
        var record = ChangeRecord(operation: .create, database: entry.database, collection: entry.name, wallMillis: wallMillis)
        record.collectionId = entry.id
        var description: Document = ["idIndex": .document(idIndex)]
        for (key, value) in entry.options.changeEventDescription { description.append(key, value) }
        record.operationDescription = description
        return record
    }

    /// `createIndexes` or `dropIndexes`: `operationDescription` = `{indexes: [<listIndexes shape>]}`.
    static func indexes(_ operation: Operation, _ specs: [IndexSpec], of entry: CatalogEntry, wallMillis: Int64)
        -> ChangeRecord
    {
        precondition(operation == .createIndexes || operation == .dropIndexes)
        var record = ChangeRecord(operation: operation, database: entry.database, collection: entry.name, wallMillis: wallMillis)
        record.collectionId = entry.id
        record.operationDescription = ["indexes": .array(specs.map { BSONValue.document($0.description) })]
        return record
    }

    /// `drop` of a collection.
    static func drop(_ entry: CatalogEntry, wallMillis: Int64) -> ChangeRecord {
        var record = ChangeRecord(operation: .drop, database: entry.database, collection: entry.name, wallMillis: wallMillis)
        record.collectionId = entry.id
        return record
    }

    /// `rename` of a collection to `database.name` (it keeps its id, so its UUID).
    static func rename(_ entry: CatalogEntry, to database: String, _ name: String, wallMillis: Int64) -> ChangeRecord {
        var record = ChangeRecord(operation: .rename, database: entry.database, collection: entry.name, wallMillis: wallMillis)
        record.collectionId = entry.id
        record.toDatabase = database
        record.toCollection = name
        return record
    }

    /// `modify` (collMod): `operationDescription` = the options now, as a create gives them,
    /// each that changed (turning pre/post images off says `{enabled: false}`); `stateBefore`
    /// = the options before, as a create gives them (MongoDB's `stateBeforeChange`).
    static func modify(_ entry: CatalogEntry, before: CollectionOptions, wallMillis: Int64) -> ChangeRecord {
        var record = ChangeRecord(operation: .modify, database: entry.database, collection: entry.name, wallMillis: wallMillis)
        record.collectionId = entry.id
        record.stateBefore = before.changeEventDescription
        var description = Document()
        if before.changeStreamPreAndPostImages != entry.options.changeStreamPreAndPostImages {
            description.append(
                "changeStreamPreAndPostImages", .document(["enabled": .bool(entry.options.changeStreamPreAndPostImages)]))
        }
        record.operationDescription = description
        return record
    }

    /// The index specifications of a createIndexes or dropIndexes record: (keys, options).
    var indexModels: [(keys: Document, options: IndexOptions)] {
        guard case .array(let indexes)? = operationDescription?["indexes"] else { return [] }
        return indexes.compactMap { value -> (keys: Document, options: IndexOptions)? in
            guard case .document(let d) = value, case .document(let keys)? = d["key"] else { return nil }
            var o = IndexOptions(name: d["name"]?.stringValue)
            o.unique = d["unique"] == .bool(true)
            o.sparse = d["sparse"] == .bool(true)
            o.partialFilterExpression = d["partialFilterExpression"]?.documentValue
            o.expireAfterSeconds = d["expireAfterSeconds"]?.exactInt64
            return (keys, o)
        }
    }
}

extension CollectionOptions {
    /// The options that differ from the default, with the names `listCollections` uses.
    var changeEventDescription: Document {
        var d = Document()
        if let pk = partitionKey { d.append("partitionKey", .string(pk)) }
        if let sk = sortKey { d.append("sortKey", .string(sk)) }
        if partitions != 1 { d.append("partitions", .int32(Int32(clamping: partitions))) }
        if changeStreamPreAndPostImages { d.append("changeStreamPreAndPostImages", .document(["enabled": .bool(true)])) }
        return d
    }

    /// The options a create record's `operationDescription` names (the rest default).
    init(changeEventDescription d: Document) {
        self.init()
        partitionKey = d["partitionKey"]?.stringValue
        sortKey = d["sortKey"]?.stringValue
        if let n = d["partitions"]?.exactInt64 { partitions = Int(n) }
        changeStreamPreAndPostImages = d["changeStreamPreAndPostImages"]?.documentValue?["enabled"] == .bool(true)
    }
}

extension Database {
    /// Creates the collection if it does not exist (or fails with NamespaceExists when
    /// `mustNotExist`), with a `create` change record in the same batch as the catalog entry.
    func ensureCollection(_ database: String, _ name: String, options: CollectionOptions, mustNotExist: Bool = false)
        throws -> CatalogEntry
    {
        if !mustNotExist, let entry = catalog.entry(database, name) { return entry }
        var logged = ChangeLog.Appended()
        let entry = try catalog.ensure(
            database, name, options: options, sync: self.options.syncWrites, mustNotExist: mustNotExist
        ) { entry in
            var event = WriteBatch()
            logged = changeLog.append(ChangeRecord.create(entry, wallMillis: changeLog.wallMillis()), to: &event)
            return event
        }
        changeLog.committed(logged, pool: pool)
        return entry
    }
}
