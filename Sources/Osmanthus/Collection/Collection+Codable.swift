import OsmanthusBSON

/// Typed access: values are encoded with `BSONEncoder` and decoded with `BSONDecoder` (see
/// their mapping: Date ↔ datetime, ObjectId as itself, nil optionals omitted, ...).
extension Collection {
    /// Inserts `value` encoded as a document; an `_id` it lacks (or encodes as nil) is generated.
    /// Disfavoured so that a dictionary literal still means a `Document`.
    @_disfavoredOverload
    @discardableResult
    public func insertOne<T: Encodable>(_ value: T) throws -> BSONValue {
        try insertOne(try Self.encode(value))
    }

    /// The documents matching `filter`, decoded as `T`.
    public func find<T: Decodable>(_ filter: Document = [:], as type: T.Type, options: FindOptions = FindOptions())
        throws -> TypedCursor<T>
    {
        try find(filter, options: options).decode(as: type)
    }

    /// The first document matching `filter`, decoded as `T`; nil when none matches.
    public func findOne<T: Decodable>(_ filter: Document = [:], as type: T.Type, options: FindOptions = FindOptions())
        throws -> T?
    {
        var o = options
        o.limit = 1
        return try find(filter, as: type, options: o).next()
    }

    /// Replaces the first document matching `filter` with `value` (its stored `_id` is kept; a
    /// different `_id` in `value` is ImmutableField).
    @discardableResult
    public func replaceOne<T: Encodable>(_ filter: Document, with value: T, upsert: Bool = false) throws -> UpdateResult {
        try replaceOne(filter, try Self.encode(value), upsert: upsert)
    }

    static func encode<T: Encodable>(_ value: T) throws -> Document {
        if let doc = value as? Document { return doc }
        do { return try BSONEncoder().encode(value) } catch let e as BSONError {
            throw OsmanthusError.wrapping(e)
        } catch {
            throw OsmanthusError(.badValue, "\(T.self) does not encode as a BSON document: \(error)")
        }
    }
}
