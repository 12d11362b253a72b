import OsmanthusBSON

/// Database-level aggregation (`{aggregate: 1}`, SPEC.md §12.7): a pipeline that reads no
/// collection, starting with `$documents`; its later stages may read collections (`$lookup`)
/// or write one (`$out`) of `databaseName`.
extension Database {
    public func aggregate(_ pipeline: [Document], in databaseName: String,
                          options: AggregateOptions = AggregateOptions()) throws -> AggregationCursor {
        try wrapping {
            let parsed = try Pipeline(pipeline)
            guard parsed.isCollectionless else {
                let first = pipeline.first?.keys.first ?? "an empty pipeline"
                throw OsmanthusError(
                    .invalidNamespace, "{aggregate: 1} is not valid for '\(first)'; a collection is required.")
            }
            let context = PipelineContext(database: self, databaseName: databaseName, options: options)
            let cursor = AggregationCursor(
                stream: try parsed.stream(DocumentStream.empty, context),
                explain: ["stages": .array(pipeline.map { .document($0) })])
            if parsed.writesOutput { _ = try cursor.all() }
            return cursor
        }
    }
}
