import OsmanthusBSON

/// The aggregation pipeline over a collection (SPEC.md §12.7).
extension Collection {
    /// Runs `pipeline` over this collection. Results are produced lazily as the cursor is read;
    /// a pipeline ending in `$out` runs to completion here and returns an empty cursor.
    public func aggregate(_ pipeline: [Document], options: AggregateOptions = AggregateOptions()) throws
        -> AggregationCursor
    {
        try wrapping {
            let parsed = try Pipeline(pipeline)
            if parsed.isCollectionless {
                throw OsmanthusError(.invalidNamespace, "$documents can only be run with {aggregate: 1}")
            }
            let context = PipelineContext(database: database, databaseName: databaseName, options: options)
            let cursor = AggregationCursor(
                stream: try parsed.stream(over: self, context), explain: parsed.explain(namespace: namespace))
            if parsed.writesOutput { _ = try cursor.all() }
            return cursor
        }
    }

    /// How `pipeline` would run: the find it starts with (its leading `$match`/`$sort`) and the
    /// stages after it. Nothing is read.
    public func explainAggregate(_ pipeline: [Document]) throws -> Document {
        try wrapping { try Pipeline(pipeline).explain(namespace: namespace) }
    }

    /// Runs `pipeline` on the database's blocking pool and returns every result.
    public func aggregate(_ pipeline: [Document], options: AggregateOptions = AggregateOptions()) async throws
        -> [Document]
    {
        try await database.pool.run { try self.aggregate(pipeline, options: options).all() }
    }
}
