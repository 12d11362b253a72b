import OsmanthusBSON
import OsmanthusStorage

/// The lean update of one document by `_id`: `update` takes it for a filter that is exactly
/// `{_id: v}` (as `findOne(byId:)` answers it) and an update of top-level `$set`, `$inc` and
/// `$unset` only. One engine get under the key's lock, no Filter, planner or candidate list,
/// the fields edited in the stored bytes and the change described by the edit (`TopLevelEdit`).
/// Anything it does not cover (a partitioned collection, an upsert that inserts, a stored
/// document not shaped as an insert leaves it) goes the general way, with the same result.
extension Collection {
    /// The update's result, or nil when the general path must answer (nothing written then).
    func updateById(_ id: BSONValue, _ update: Update, _ actions: [UpdateAction], upsert: Bool) throws
        -> UpdateResult?
    {
        guard let entry, entry.options.partitionKey == nil else { return nil }
        let key = PrimaryKey.key(id: id, in: entry)
        let notFound: UpdateResult? = upsert ? nil : UpdateResult(matchedCount: 0, modifiedCount: 0)
        return try database.locks.withLock(key: key) { () throws -> UpdateResult? in
            guard let raw = try storage.get(key) else { return notFound }
            let doc = try Document(trustedBytes: raw)
            // The key encoding places decimals by their nearest double, so two distinct values
            // can share a key: the stored `_id` must still equal the one asked for.
            let matches: Bool
            switch doc.compareField("_id", with: id) {
            case .order(let order): matches = order == 0
            case .missing, .otherBracket: matches = false
            case .undecided: matches = LeafPredicate.compare(doc["_id"], .eq, id)
            }
            guard matches else { return notFound }
            guard
                let edit = try update.applyTopLevel(
                    actions, to: doc, now: Clock.nowMillis(), describe: database.changeLog.enabled)
            else { return nil }
            try Self.checkSize(edit.updated)
            guard edit.updated != doc else { return UpdateResult(matchedCount: 1, modifiedCount: 0) }  // memcmp
            var change = DocumentChange.modify(doc, to: edit.updated, replacing: false, key: key, in: entry)
            change.updateDescription = edit.updateDescription
            try database.commit([change])
            return UpdateResult(matchedCount: 1, modifiedCount: 1)
        }
    }
}
