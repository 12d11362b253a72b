import OsmanthusBSON
import OsmanthusStorage

/// The lean writes of one document by `_id`: `update` takes them for a filter that is exactly
/// `{_id: v}` (as `findOne(byId:)` answers it) and an update of top-level `$set`, `$inc` and
/// `$unset` only; `findAndModify` for such a filter with no projection. One engine get under
/// the key's lock, no Filter match, planner or candidate list; top-level fields are edited in
/// the stored bytes and the change described by the edit (`TopLevelEdit`). Anything they do
/// not cover (a partitioned collection, an upsert that inserts, a stored document not shaped
/// as an insert leaves it) goes the general way, with the same result.
extension Collection {
    /// The update's result, or nil when the general path must answer (nothing written then).
    func updateById(_ id: BSONValue, _ update: Update, _ actions: [UpdateAction], upsert: Bool) throws
        -> UpdateResult?
    {
        try updateById(id, upsert: upsert) { doc, describe in
            try update.applyTopLevel(actions, to: doc, now: Clock.nowMillis(), describe: describe)
        }
    }

    /// `updateById` of `{$set: {field: scalar}}` read in the update's bytes (`OneFieldSet`):
    /// the update is never parsed unless the general path must answer.
    func updateById(_ id: BSONValue, _ set: OneFieldSet, upsert: Bool) throws -> UpdateResult? {
        try updateById(id, upsert: upsert) { doc, describe in set.apply(to: doc, describe: describe) }
    }

    /// The stored document of `id` edited by `edit` (given whether to describe the change; nil:
    /// the general path must answer) and committed under the key's lock.
    private func updateById(
        _ id: BSONValue, upsert: Bool, _ edit: (Document, Bool) throws -> TopLevelEdit?
    ) throws -> UpdateResult? {
        guard let entry, entry.options.partitionKey == nil else { return nil }
        let key = PrimaryKey.key(id: id, in: entry)
        let notFound: UpdateResult? = upsert ? nil : UpdateResult(matchedCount: 0, modifiedCount: 0)
        return try database.locks.withLock(key: key) { () throws -> UpdateResult? in
            guard let doc = try storedDocument(key, id) else { return notFound }
            guard let edit = try edit(doc, database.changeLog.enabled) else { return nil }
            try Self.checkSize(edit.updated)
            guard edit.updated != doc else { return UpdateResult(matchedCount: 1, modifiedCount: 0) }  // memcmp
            // Built in the array it is committed in: a change built aside and then copied in
            // cost a copy and a destroy of the whole change (its entry, key and documents).
            try database.commit([
                DocumentChange(
                    entry: entry, key: key, operation: .update, before: doc, after: edit.updated,
                    updateDescription: edit.updateDescription)
            ])
            return UpdateResult(matchedCount: 1, modifiedCount: 1)
        }
    }

    /// findAndModify of `{_id: id}` without a projection (a sort has at most one document to
    /// order): the reply, or nil when the general path must answer (nothing written then).
    func findAndModifyById(_ id: BSONValue, _ request: FindAndModifyRequest, _ options: FindAndModifyOptions) throws
        -> (value: Document?, lastErrorObject: Document)?
    {
        guard request.projection == nil, let entry, entry.options.partitionKey == nil else { return nil }
        let key = PrimaryKey.key(id: id, in: entry)
        return try database.locks.withLock(key: key) { () throws -> (value: Document?, lastErrorObject: Document)? in
            guard let doc = try storedDocument(key, id) else {
                // An upsert inserts: the general path builds the document from the filter.
                return options.upsert ? nil : (nil, ["n": .int32(0), "updatedExisting": .bool(false)])
            }
            if options.remove {
                try database.commit([.delete(doc, key: key, in: entry)])
                return (doc, ["n": .int32(1)])
            }
            guard let update = request.update else { return (nil, ["n": .int32(0)]) }
            var change: DocumentChange
            if let actions = update.topLevelActions,
                let edit = try update.applyTopLevel(
                    actions, to: doc, now: Clock.nowMillis(), describe: database.changeLog.enabled)
            {
                try Self.checkSize(edit.updated)
                change = .modify(doc, to: edit.updated, replacing: false, key: key, in: entry)
                change.updateDescription = edit.updateDescription
            } else {
                // `{_id: v}` matches no array element: there is no positional index.
                let updated = try apply(update, to: doc, positional: nil, entry: entry, key: key)
                change = .modify(doc, to: updated, replacing: update.isReplacement, key: key, in: entry)
            }
            let updated = change.after ?? doc
            if updated != doc { try database.commit([change]) }  // memcmp
            return (options.returnNew ? updated : doc, ["n": .int32(1), "updatedExisting": .bool(true)])
        }
    }

    /// The stored document under `key` when its `_id` equals `id`, else nil. The key encoding
    /// places decimals by their nearest double, so two distinct values can share a key: the
    /// stored `_id` must still equal the one asked for (compared in the bytes when it can be,
    /// else decoded).
    func storedDocument(_ key: [UInt8], _ id: BSONValue) throws -> Document? {
        guard let raw = try storage.get(key) else { return nil }
        let doc: Document
        do { doc = try Document(trustedBytes: raw) } catch {
            throw OsmanthusError(.internalError, "stored document does not decode: \(error)")
        }
        if Self.keyDecidesEquality(id), Self.leadsWithId(doc, ofType: id.type) { return doc }
        switch doc.compareField("_id", with: id) {
        case .order(let order): return order == 0 ? doc : nil
        case .missing, .otherBracket: return nil
        case .undecided: return LeafPredicate.compare(doc["_id"], .eq, id) ? doc : nil
        }
    }

    /// Whether two values of `id`'s BSON type with the same key encoding are equal: true for
    /// every type a point read takes but decimal128, which the key places by its nearest double
    /// (strings, binaries, ObjectIds, booleans, dates and timestamps are encoded whole; int32,
    /// int64 and double exactly, -0 as 0, which compare equal).
    static func keyDecidesEquality(_ id: BSONValue) -> Bool {
        switch id {
        case .int32, .int64, .double, .string, .objectId, .bool, .datetime, .timestamp, .binary: true
        default: false
        }
    }

    /// Whether the document's first field is `_id` with a value of `type` (a look at its first
    /// bytes: type byte, then the key "_id" and its NUL).
    static func leadsWithId(_ doc: Document, ofType type: BSONType) -> Bool {
        doc.withUnsafeBytes { b in
            b.count > 9 && b[4] == type.rawValue && b[5] == 0x5F && b[6] == 0x69 && b[7] == 0x64 && b[8] == 0
        }
    }
}
