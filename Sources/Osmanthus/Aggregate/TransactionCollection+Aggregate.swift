import OsmanthusBSON

/// The aggregation pipeline inside a transaction: the same stages over the documents as the
/// transaction sees them (its snapshot plus its own pending writes).
extension TransactionCollection {
    /// Runs `pipeline` over this collection as the transaction sees it. `$out` writes outside
    /// any transaction, so it is refused here (MongoDB refuses it too).
    public func aggregate(_ pipeline: [Document], options: AggregateOptions = AggregateOptions()) throws
        -> AggregationCursor
    {
        try wrapping {
            let parsed = try Pipeline(pipeline)
            if parsed.writesOutput {
                throw OsmanthusError(
                    OsmanthusError.Code(263, "OperationNotSupportedInTransaction"),
                    "$out cannot be used in a transaction")
            }
            let context = PipelineContext(
                database: collection.database, databaseName: collection.databaseName, options: options)
            let p = parsed.pushdown
            let documents = try find(p.filter, options: FindOptions(sort: p.sort, skip: p.skip, limit: p.limit))
            return AggregationCursor(
                stream: try parsed.stream(DocumentStream(documents), context, from: parsed.pushedStageCount),
                explain: parsed.explain(namespace: namespace))
        }
    }
}
