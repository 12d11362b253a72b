import OsmanthusBSON
import OsmanthusStorage

/// A collection inside a `Transaction`: the same filters, updates and projections as
/// `Collection`, reading the transaction's snapshot plus its own pending writes, and buffering
/// writes until commit. Conditional writes are checked against that view: inserting an
/// existing key is DuplicateKey (11000) at once; a concurrent change to the same key surfaces
/// at commit as WriteConflict (112).
///
/// A collection first written inside a transaction is created at that write, outside the
/// transaction (an empty collection remains if the transaction then fails).
public struct TransactionCollection {
    let transaction: Transaction
    let collection: Collection

    public var namespace: String { collection.namespace }

    // MARK: Reads

    /// The document with `_id` = `id`.
    public func get(_ id: BSONValue) throws -> Document? {
        try findOne(["_id": id])
    }

    /// The documents matching `filter` (sorted, skipped, limited and projected per `options`).
    public func find(_ filter: Document = [:], options: FindOptions = FindOptions()) throws -> [Document] {
        try wrapping {
            let parsed = try Filter(filter)
            let projection = try options.projection.map { try Projection($0) }
            guard let entry = collection.entry else { return [] }
            var docs = try candidates(parsed, entry).map(\.1)
            if let sort = try options.sort.map({ try SortSpec($0) }), !sort.isEmpty {
                docs = collection.stableSorted(docs, by: sort)
            }
            var selected = docs.dropFirst(max(0, options.skip))
            if options.limit > 0 { selected = selected.prefix(options.limit) }
            guard let projection else { return Array(selected) }
            return try selected.map { try projection.apply(to: $0, filter: parsed) }
        }
    }

    public func findOne(_ filter: Document = [:], options: FindOptions = FindOptions()) throws -> Document? {
        var o = options
        o.limit = 1
        return try find(filter, options: o).first
    }

    public func find<T: Decodable>(_ filter: Document = [:], as type: T.Type, options: FindOptions = FindOptions())
        throws -> [T]
    {
        try find(filter, options: options).map { try TypedCursor<T>.decode($0) }
    }

    public func findOne<T: Decodable>(_ filter: Document = [:], as type: T.Type) throws -> T? {
        try find(filter, as: type, options: FindOptions(limit: 1)).first
    }

    public func count(_ filter: Document = [:]) throws -> Int {
        try find(filter).count
    }

    /// Distinct values of the field at `key` among the matching documents, as the transaction
    /// sees them (`Collection.distinct`'s order).
    public func distinct(_ key: String, filter: Document = [:]) throws -> [BSONValue] {
        var documents = try find(filter).makeIterator()
        return Collection.distinctValues(at: key) { documents.next() }
    }

    // MARK: Writes

    /// Inserts a document (an ObjectId `_id` is generated when missing); DuplicateKey (11000)
    /// when this transaction sees a document with the same primary key.
    @discardableResult
    public func insertOne(_ doc: Document) throws -> BSONValue {
        try wrapping {
            try transaction.checkOpen()
            let entry = try collection.ensureEntry()
            let prepared = try Collection.prepareForInsert(doc)
            let key = try PrimaryKey.key(for: prepared, in: entry)
            if try transaction.read(key) != nil { throw collection.duplicateKey(prepared, entry) }
            try transaction.put(key, prepared.bytes, in: entry)
            return prepared["_id"] ?? .null
        }
    }

    @_disfavoredOverload
    @discardableResult
    public func insertOne<T: Encodable>(_ value: T) throws -> BSONValue {
        try insertOne(try Collection.encode(value))
    }

    public func update(_ filter: Document, _ update: Document, options: UpdateOptions = UpdateOptions()) throws
        -> UpdateResult
    {
        try wrapping {
            let parsedFilter = try Filter(filter)
            let parsedUpdate = try Update(update, arrayFilters: options.arrayFilters)
            if parsedUpdate.isReplacement && options.multi {
                throw OsmanthusError(.failedToParse, "multi update is not supported for replacement-style update")
            }
            guard let entry = options.upsert ? try collection.ensureEntry() : collection.entry else {
                return UpdateResult(matchedCount: 0, modifiedCount: 0)
            }
            var matched = 0
            var modified = 0
            for (key, doc) in try candidates(parsedFilter, entry) {
                let m = parsedFilter.match(doc)
                matched += 1
                let updated = try collection.apply(
                    parsedUpdate, to: doc, positional: m.arrayIndex, entry: entry, key: key)
                if updated != doc {  // byte equality (memcmp)
                    try transaction.put(key, updated.bytes, in: entry, replacing: parsedUpdate.isReplacement)
                    modified += 1
                }
                if !options.multi { break }
            }
            if matched == 0 && options.upsert {
                let doc = try collection.upsertDocument(parsedFilter, parsedUpdate, replacement: update)
                let key = try PrimaryKey.key(for: doc, in: entry)
                if try transaction.read(key) != nil { throw collection.duplicateKey(doc, entry) }
                try transaction.put(key, doc.bytes, in: entry)
                return UpdateResult(matchedCount: 0, modifiedCount: 0, upsertedId: doc["_id"])
            }
            return UpdateResult(matchedCount: matched, modifiedCount: modified)
        }
    }

    @discardableResult
    public func updateOne(_ filter: Document, _ update: Document, upsert: Bool = false) throws -> UpdateResult {
        try self.update(filter, update, options: UpdateOptions(upsert: upsert))
    }

    @discardableResult
    public func updateMany(_ filter: Document, _ update: Document) throws -> UpdateResult {
        try self.update(filter, update, options: UpdateOptions(multi: true))
    }

    @discardableResult
    public func replaceOne(_ filter: Document, _ replacement: Document, upsert: Bool = false) throws -> UpdateResult {
        if let first = replacement.keys.first, first.hasPrefix("$") {
            throw OsmanthusError(.failedToParse, "replacement document must not contain update operators")
        }
        return try update(filter, replacement, options: UpdateOptions(upsert: upsert))
    }

    @discardableResult
    public func replaceOne<T: Encodable>(_ filter: Document, with value: T, upsert: Bool = false) throws -> UpdateResult {
        try replaceOne(filter, try Collection.encode(value), upsert: upsert)
    }

    /// Deletes matching documents: all with `limit` 0, the first with 1. Returns how many.
    @discardableResult
    public func delete(_ filter: Document, limit: Int = 0) throws -> Int {
        try wrapping {
            let parsed = try Filter(filter)
            guard let entry = collection.entry else { return 0 }
            var deleted = 0
            for (key, _) in try candidates(parsed, entry) {
                try transaction.delete(key, in: entry)
                deleted += 1
                if limit == 1 { break }
            }
            return deleted
        }
    }

    @discardableResult
    public func deleteOne(_ filter: Document) throws -> Int { try delete(filter, limit: 1) }

    @discardableResult
    public func deleteMany(_ filter: Document) throws -> Int { try delete(filter, limit: 0) }

    /// `Collection.findAndModify` inside the transaction: the first match in `options.sort`
    /// order, as this transaction sees it, changed or removed with the transaction's writes.
    public func findAndModify(_ filter: Document, options: FindAndModifyOptions) throws
        -> (value: Document?, lastErrorObject: Document)
    {
        try wrapping {
            let request = try FindAndModifyRequest(filter, options)
            let parsedFilter = request.filter
            let parsedUpdate = request.update
            guard let entry = options.upsert ? try collection.ensureEntry() : collection.entry else {
                return (nil, ["n": .int32(0)])
            }
            if let (key, doc) = request.first(of: try candidates(parsedFilter, entry)) {
                if options.remove {
                    try transaction.delete(key, in: entry)
                    return (try request.shown(doc), ["n": .int32(1)])
                }
                guard let parsedUpdate else { return (nil, ["n": .int32(0)]) }
                let m = parsedFilter.match(doc)
                let updated = try collection.apply(parsedUpdate, to: doc, positional: m.arrayIndex, entry: entry, key: key)
                if updated != doc {  // byte equality (memcmp)
                    try transaction.put(key, updated.bytes, in: entry, replacing: parsedUpdate.isReplacement)
                }
                return (try request.shown(options.returnNew ? updated : doc), ["n": .int32(1), "updatedExisting": .bool(true)])
            }
            guard options.upsert, let parsedUpdate, let raw = options.update else {
                return (nil, ["n": .int32(0), "updatedExisting": .bool(false)])
            }
            let doc = try collection.upsertDocument(parsedFilter, parsedUpdate, replacement: raw)
            let key = try PrimaryKey.key(for: doc, in: entry)
            if try transaction.read(key) != nil { throw collection.duplicateKey(doc, entry) }
            try transaction.put(key, doc.bytes, in: entry)
            return (try request.shown(options.returnNew ? doc : nil),
                    ["n": .int32(1), "updatedExisting": .bool(false), "upserted": doc["_id"] ?? .null])
        }
    }

    // MARK: Helpers

    /// The documents matching `filter` in key order, as this transaction sees them.
    private func candidates(_ filter: Filter, _ entry: CatalogEntry) throws -> [([UInt8], Document)] {
        switch collection.access(filter, entry) {
        case .point(let key):
            guard let raw = try transaction.read(key) else { return [] }
            let doc = try Document(bytes: raw)
            return filter.matches(doc) ? [(key, doc)] : []
        case .prefix(let prefix), .scan(let prefix), .range(let prefix, _, _):
            var out: [([UInt8], Document)] = []
            for (key, raw) in try transaction.scan(prefix: prefix) {
                let doc = try Document(bytes: raw)
                if filter.matches(doc) { out.append((key, doc)) }
            }
            return out
        }
    }
}
