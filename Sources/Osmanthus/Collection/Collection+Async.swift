import OsmanthusBSON

/// Async versions of the main calls. Each runs its synchronous twin on the database's
/// `BlockingPool` (dedicated threads), so a task awaiting a synced write or a cold read does
/// not hold a thread of the cooperative pool. Cancellation is checked before the work starts;
/// once started, a write runs to completion.
extension Collection {
    @discardableResult
    public func insertOne(_ doc: Document) async throws -> BSONValue {
        try await database.pool.run { try self.insertOne(doc) }
    }

    @_disfavoredOverload
    @discardableResult
    public func insertOne<T: Encodable>(_ value: T) async throws -> BSONValue {
        let doc = try Self.encode(value)
        return try await database.pool.run { try self.insertOne(doc) }
    }

    @discardableResult
    public func insertMany(_ docs: [Document], ordered: Bool = true) async throws -> InsertManyResult {
        try await database.pool.run { try self.insertMany(docs, ordered: ordered) }
    }

    /// A cursor; iterate it with `for try await` to read its batches on the pool too.
    public func find(_ filter: Document = [:], options: FindOptions = FindOptions()) async throws -> Cursor {
        try await database.pool.run { try self.find(filter, options: options) }
    }

    public func find<T: Decodable>(_ filter: Document = [:], as type: T.Type, options: FindOptions = FindOptions())
        async throws -> TypedCursor<T>
    {
        try await find(filter, options: options).decode(as: type)
    }

    public func findOne(_ filter: Document = [:], options: FindOptions = FindOptions()) async throws -> Document? {
        try await database.pool.run { try self.findOne(filter, options: options) }
    }

    public func findOne<T: Decodable & Sendable>(
        _ filter: Document = [:], as type: T.Type, options: FindOptions = FindOptions()
    ) async throws -> T? {
        try await database.pool.run { try self.findOne(filter, as: type, options: options) }
    }

    public func count(_ filter: Document = [:], skip: Int = 0, limit: Int = 0) async throws -> Int {
        try await database.pool.run { try self.count(filter, skip: skip, limit: limit) }
    }

    public func update(_ filter: Document, _ update: Document, options: UpdateOptions = UpdateOptions()) async throws
        -> UpdateResult
    {
        try await database.pool.run { try self.update(filter, update, options: options) }
    }

    @discardableResult
    public func updateOne(_ filter: Document, _ update: Document, upsert: Bool = false, arrayFilters: [Document] = [])
        async throws -> UpdateResult
    {
        try await database.pool.run { try self.updateOne(filter, update, upsert: upsert, arrayFilters: arrayFilters) }
    }

    @discardableResult
    public func updateMany(_ filter: Document, _ update: Document, upsert: Bool = false, arrayFilters: [Document] = [])
        async throws -> UpdateResult
    {
        try await database.pool.run { try self.updateMany(filter, update, upsert: upsert, arrayFilters: arrayFilters) }
    }

    @discardableResult
    public func replaceOne(_ filter: Document, _ replacement: Document, upsert: Bool = false) async throws
        -> UpdateResult
    {
        try await database.pool.run { try self.replaceOne(filter, replacement, upsert: upsert) }
    }

    @discardableResult
    public func replaceOne<T: Encodable>(_ filter: Document, with value: T, upsert: Bool = false) async throws
        -> UpdateResult
    {
        let doc = try Self.encode(value)
        return try await database.pool.run { try self.replaceOne(filter, doc, upsert: upsert) }
    }

    @discardableResult
    public func delete(_ filter: Document, limit: Int = 0) async throws -> Int {
        try await database.pool.run { try self.delete(filter, limit: limit) }
    }

    @discardableResult
    public func deleteOne(_ filter: Document) async throws -> Int { try await delete(filter, limit: 1) }

    @discardableResult
    public func deleteMany(_ filter: Document) async throws -> Int { try await delete(filter, limit: 0) }

    public func findAndModify(_ filter: Document, options: FindAndModifyOptions) async throws
        -> (value: Document?, lastErrorObject: Document)
    {
        try await database.pool.run { try self.findAndModify(filter, options: options) }
    }
}
