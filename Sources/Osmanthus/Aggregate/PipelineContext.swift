import OsmanthusBSON

/// What every stage of one pipeline run shares: the database (for `$lookup` and `$out`), the
/// options (memory budget), and one `$$NOW` for the whole run.
struct PipelineContext: Sendable {
    let database: Database
    let databaseName: String
    let options: AggregateOptions
    let now: Int64

    init(database: Database, databaseName: String, options: AggregateOptions, now: Int64? = nil) {
        self.database = database
        self.databaseName = databaseName
        self.options = options
        self.now = now ?? ExpressionContext.clockNow()
    }

    /// The expression context of one document.
    func scope(_ document: Document) -> ExpressionContext {
        ExpressionContext(root: document, now: now)
    }
}
