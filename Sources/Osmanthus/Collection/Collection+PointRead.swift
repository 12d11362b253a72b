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
            let cached = currentEntry
            guard let collection = cached.idKeyedCollection, Self.pointLookupable(id) else {
                guard cached.entry != nil else { return nil }
                return try find(["_id": id], options: FindOptions(limit: 1)).next()
            }
            return try storedDocument(KeyEncoder.encode(id, afterDocumentPrefixOf: collection), id)
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
