import OsmanthusBSON
import OsmanthusStorage

/// The lean read of one document by `_id`: one engine get, no Filter, Cursor or snapshot.
/// `findOne` takes it for `{_id: v}` with no projection, sort or skip; the planner may call
/// `findOne(byId:)` for any plain `_id` equality it recognises.
extension Collection {
    /// The document whose `_id` equals `id` (MongoDB equality, so 5, 5.0 and 5L are one key),
    /// or nil. In a partitioned collection `_id` is not the key: this falls back to a query.
    public func findOne(byId id: BSONValue) throws -> Document? {
        try wrapping {
            guard let entry else { return nil }
            guard entry.options.partitionKey == nil, Self.pointLookupable(id) else {
                return try find(["_id": id], options: FindOptions(limit: 1)).next()
            }
            guard let raw = try storage.get(PrimaryKey.key(id: id, in: entry)) else { return nil }
            let doc: Document
            do { doc = try Document(trustedBytes: raw) } catch {
                throw OsmanthusError(.internalError, "stored document does not decode: \(error)")
            }
            // The key encoding places decimals by their nearest double, so two distinct values
            // can share a key: the stored `_id` must still equal the one asked for (compared in
            // the bytes when it can be, else decoded).
            switch doc.compareField("_id", with: id) {
            case .order(let order): return order == 0 ? doc : nil
            case .missing, .otherBracket: return nil
            case .undecided: return LeafPredicate.compare(doc["_id"], .eq, id) ? doc : nil
            }
        }
    }

    /// The value of a filter that is exactly `{_id: v}` with `v` a plain value that
    /// `findOne(byId:)` can answer; nil for anything else (operators, documents, arrays, regexes,
    /// more fields).
    static func idEqualityValue(_ filter: Document) -> BSONValue? {
        var fields = filter.makeIterator()
        guard let (key, value) = fields.next(), key == "_id", fields.next() == nil, pointLookupable(value) else {
            return nil
        }
        return value
    }

    /// Values whose equality is exactly one primary key: no null/missing, no MinKey/MaxKey
    /// brackets, no NaN, no arrays, documents (which may hold operators) or regexes.
    static func pointLookupable(_ value: BSONValue) -> Bool {
        switch value {
        case .int32, .int64, .string, .objectId, .bool, .datetime, .timestamp, .binary: true
        case .double(let d): !d.isNaN
        case .decimal128(let d): !d.isNaN
        default: false
        }
    }

    /// Whether `find(filter)` is at most one primary-key read: `{_id: v}` as `findOne(byId:)`
    /// answers it, on a collection keyed by `_id` or on none. The server runs such finds on its
    /// event loop (SPEC.md §13.6) because they cannot take long.
    public func isPointRead(_ filter: Document) -> Bool {
        guard Self.idEqualityValue(filter) != nil else { return false }
        guard let entry else { return true }
        return entry.options.partitionKey == nil
    }
}
