import OsmanthusBSON
import OsmanthusStorage

/// Updates, deletes and find-and-modify: read, check and write under the locks of the keys
/// involved, so the filter still matches what is written (a conditional write).
extension Collection {
    public func update(_ filter: Document, _ update: Document, options: UpdateOptions = UpdateOptions()) throws
        -> UpdateResult
    {
        try wrapping {
            // `{_id: v}` parses as a filter without fail: its parse waits for the general path.
            let idValue = Self.idEqualityValue(filter)
            // `{$set: {field: scalar}}` by `_id` (the usual update): edited from the update's
            // bytes, parsed only if the general path must answer.
            if let idValue, options.arrayFilters.isEmpty, let set = OneFieldSet(update),
                let result = try updateById(idValue, set, upsert: options.upsert)
            {
                return result
            }
            let idFilter = try idValue == nil ? Filter(filter) : nil
            let parsedUpdate = try Update(update, arrayFilters: options.arrayFilters)
            if parsedUpdate.isReplacement && options.multi {
                throw OsmanthusError(.failedToParse, "multi update is not supported for replacement-style update")
            }
            if let idValue, let actions = parsedUpdate.topLevelActions,
                let result = try updateById(idValue, parsedUpdate, actions, upsert: options.upsert)
            {
                return result
            }
            let parsedFilter = try idFilter ?? Filter(filter)
            guard let entry = options.upsert ? try ensureEntry() : self.entry else {
                return UpdateResult(matchedCount: 0, modifiedCount: 0)
            }
            let access = self.access(parsedFilter, entry)
            return try withWriteLocks(access) {
                var changes: [DocumentChange] = []
                var matched = 0
                var modified = 0
                for (key, doc) in try candidatesWithKeys(parsedFilter, entry, access: access) {
                    let m = parsedFilter.match(doc)
                    guard m.matched else { continue }
                    matched += 1
                    let updated = try apply(parsedUpdate, to: doc, positional: m.arrayIndex, entry: entry, key: key)
                    if updated != doc {  // byte equality (memcmp)
                        changes.append(
                            .modify(doc, to: updated, replacing: parsedUpdate.isReplacement, key: key, in: entry))
                        modified += 1
                    }
                    if !options.multi { break }
                }
                var upserted: BSONValue?
                if matched == 0 && options.upsert {
                    let doc = try upsertDocument(parsedFilter, parsedUpdate, replacement: update)
                    let key = try PrimaryKey.key(for: doc, in: entry)
                    if try storage.get(key) != nil { throw duplicateKey(doc, entry) }
                    changes.append(.insert(doc, key: key, in: entry))
                    upserted = doc["_id"]
                }
                try database.commit(changes)
                return UpdateResult(matchedCount: matched, modifiedCount: modified, upsertedId: upserted)
            }
        }
    }

    @discardableResult
    public func updateOne(_ filter: Document, _ update: Document, upsert: Bool = false, arrayFilters: [Document] = [])
        throws -> UpdateResult
    {
        try self.update(filter, update, options: UpdateOptions(upsert: upsert, multi: false, arrayFilters: arrayFilters))
    }

    @discardableResult
    public func updateMany(_ filter: Document, _ update: Document, upsert: Bool = false, arrayFilters: [Document] = [])
        throws -> UpdateResult
    {
        try self.update(filter, update, options: UpdateOptions(upsert: upsert, multi: true, arrayFilters: arrayFilters))
    }

    @discardableResult
    public func replaceOne(_ filter: Document, _ replacement: Document, upsert: Bool = false) throws -> UpdateResult {
        if let first = replacement.keys.first, first.hasPrefix("$") {
            throw OsmanthusError(.failedToParse, "replacement document must not contain update operators")
        }
        return try update(filter, replacement, options: UpdateOptions(upsert: upsert))
    }

    /// Deletes matching documents: all with `limit` 0, the first with 1. Returns how many.
    @discardableResult
    public func delete(_ filter: Document, limit: Int = 0) throws -> Int {
        try wrapping {
            let parsed = try Filter(filter)
            guard let entry else { return 0 }
            let access = self.access(parsed, entry)
            return try withWriteLocks(access) {
                var changes: [DocumentChange] = []
                for (key, doc) in try candidatesWithKeys(parsed, entry, access: access) where parsed.matches(doc) {
                    changes.append(.delete(doc, key: key, in: entry))
                    if limit == 1 { break }
                }
                try database.commit(changes)
                return changes.count
            }
        }
    }

    @discardableResult
    public func deleteOne(_ filter: Document) throws -> Int { try delete(filter, limit: 1) }

    @discardableResult
    public func deleteMany(_ filter: Document) throws -> Int { try delete(filter, limit: 0) }

    /// MongoDB's findAndModify: changes or removes the first document matching `filter` (in
    /// `options.sort` order) and returns it as it was before, or after with `returnNew`.
    public func findAndModify(_ filter: Document, options: FindAndModifyOptions) throws
        -> (value: Document?, lastErrorObject: Document)
    {
        try wrapping {
            let request = try FindAndModifyRequest(filter, options)
            if let id = Self.idEqualityValue(filter), let reply = try findAndModifyById(id, request, options) {
                return reply
            }
            let parsedFilter = request.filter
            let parsedUpdate = request.update
            guard let entry = options.upsert ? try ensureEntry() : self.entry else {
                return (nil, ["n": .int32(0)])
            }
            let access = self.access(parsedFilter, entry)
            return try withWriteLocks(access) {
                let matches = try candidatesWithKeys(parsedFilter, entry, access: access).filter { parsedFilter.matches($0.1) }
                if let (key, doc) = request.first(of: matches) {
                    if options.remove {
                        try database.commit([.delete(doc, key: key, in: entry)])
                        return (try request.shown(doc), ["n": .int32(1)])
                    }
                    guard let parsedUpdate else { return (nil, ["n": .int32(0)]) }
                    let m = parsedFilter.match(doc)
                    let updated = try apply(parsedUpdate, to: doc, positional: m.arrayIndex, entry: entry, key: key)
                    if updated != doc {  // byte equality (memcmp)
                        try database.commit([
                            .modify(doc, to: updated, replacing: parsedUpdate.isReplacement, key: key, in: entry)
                        ])
                    }
                    return (try request.shown(options.returnNew ? updated : doc),
                            ["n": .int32(1), "updatedExisting": .bool(true)])
                }
                guard options.upsert, let parsedUpdate, let raw = options.update else {
                    return (nil, ["n": .int32(0), "updatedExisting": .bool(false)])
                }
                let doc = try upsertDocument(parsedFilter, parsedUpdate, replacement: raw)
                let key = try PrimaryKey.key(for: doc, in: entry)
                if try storage.get(key) != nil { throw duplicateKey(doc, entry) }
                try database.commit([.insert(doc, key: key, in: entry)])
                return (try request.shown(options.returnNew ? doc : nil),
                        ["n": .int32(1), "updatedExisting": .bool(false), "upserted": doc["_id"] ?? .null])
            }
        }
    }

    // MARK: Helpers

    /// A point access locks its key; anything wider locks every stripe (no concurrent writer
    /// can then change a document between our read and our write).
    func withWriteLocks<T>(_ access: Access, _ body: () throws -> T) throws -> T {
        if case .point(let key) = access {
            return try database.locks.withLock(key: key, body)
        }
        return try database.locks.withAllLocks(body)
    }

    /// Applies an update to a stored document, refusing to change its primary key.
    func apply(_ update: Update, to doc: Document, positional: Int?, entry: CatalogEntry, key: [UInt8]) throws
        -> Document
    {
        var updated = try update.apply(to: doc, isInsert: false, positionalIndex: positional, now: Clock.nowMillis())
        if update.isReplacement {
            // A replacement keeps the stored _id, first.
            var withId = Document()
            withId.append("_id", doc["_id"] ?? .null)
            for (k, v) in updated where k != "_id" { withId.append(k, v) }
            if let newId = updated["_id"], KeyEncoder.encode(newId) != KeyEncoder.encode(doc["_id"] ?? .null) {
                throw OsmanthusError(
                    .immutableField,
                    "After applying the update, the (immutable) field '_id' was found to have been altered to _id: \(newId)")
            }
            updated = withId
        }
        let oldId = doc["_id"] ?? .null
        let newId = updated["_id"] ?? .null
        // Identical values (the usual case) need no key encoding to tell they are one key.
        if newId != oldId, KeyEncoder.encode(newId) != KeyEncoder.encode(oldId) {
            throw OsmanthusError(
                .immutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
        }
        if entry.options.partitionKey != nil, try PrimaryKey.key(for: updated, in: entry) != key {
            throw OsmanthusError(.immutableField, "an update may not change a document's partition or sort key")
        }
        try Self.checkSize(updated)
        return updated
    }

    /// The document an upsert inserts: the filter's equality fields with the update applied as
    /// an insert, or the replacement with the filter's `_id`.
    func upsertDocument(_ filter: Filter, _ update: Update, replacement: Document) throws -> Document {
        var doc: Document
        if update.isReplacement {
            doc = replacement
            if doc["_id"] == nil, let id = filter.equalities["_id"] {
                var withId = Document()
                withId.append("_id", id)
                for (k, v) in doc { withId.append(k, v) }
                doc = withId
            }
        } else {
            doc = try update.apply(
                to: Update.upsertSeed(from: filter), isInsert: true, positionalIndex: nil, now: Clock.nowMillis())
        }
        return try Self.prepareForInsert(doc)
    }
}
