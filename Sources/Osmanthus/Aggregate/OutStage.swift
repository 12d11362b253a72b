import OsmanthusBSON

/// `$out`: the pipeline's results replace the contents of a collection (created if needed).
/// As in MongoDB, the results are written to a temporary collection first and renamed over
/// the target at the end, so a failing pipeline (or a duplicate `_id`) leaves the target as
/// it was, and readers never see a half-written result. An existing target keeps its indexes:
/// they are created on the temporary collection first, so the results must also satisfy its
/// unique indexes (else DuplicateKey, target unchanged).
struct OutStage: Sendable {
    let database: String?
    let collection: String

    init(_ argument: BSONValue) throws {
        switch argument {
        case .string(let name):
            database = nil
            collection = name
        case .document(let spec):
            guard case .string(let name)? = spec["coll"] else {
                throw OsmanthusError(.failedToParse, "$out requires a 'coll' string")
            }
            if let db = spec["db"] {
                guard case .string(let dbName) = db else { throw OsmanthusError(.failedToParse, "$out 'db' must be a string") }
                database = dbName
            } else {
                database = nil
            }
            collection = name
        default:
            throw OsmanthusError(.location(16990), "$out only supports a string or object argument, not \(argument.type.name)")
        }
        guard !collection.isEmpty, !collection.hasPrefix("system.") else {
            throw OsmanthusError(.invalidNamespace, "Invalid $out target namespace: '\(collection)'")
        }
    }

    static let batchSize = 1000

    func write(_ input: DocumentStream, _ context: PipelineContext) throws {
        let databaseName = database ?? context.databaseName
        let temporary = "tmp.agg_out.\(ObjectId().hex)"
        let target = context.database.collection(temporary, in: databaseName)
        do {
            // The target keeps its layout (partition and sort key) across the replacement.
            let layout = context.database.catalog.entry(databaseName, collection)?.options ?? CollectionOptions()
            try context.database.createCollection(temporary, in: databaseName, options: layout)
            for spec in existingIndexes(databaseName, context) {
                try target.createIndex(spec.keyPattern, options: IndexOptions(
                    name: spec.name, unique: spec.unique, sparse: spec.sparse,
                    partialFilterExpression: spec.partialFilterExpression, expireAfterSeconds: spec.expireAfterSeconds))
            }
            var batch = [Document]()
            func flush() throws {
                let result = try target.insertMany(batch)
                if let failure = result.errors.first { throw failure.error }
                batch.removeAll(keepingCapacity: true)
            }
            while let document = try input.next() {
                batch.append(document)
                if batch.count >= OutStage.batchSize { try flush() }
            }
            if !batch.isEmpty { try flush() }
            try context.database.renameCollection(temporary, in: databaseName, to: collection, in: databaseName, dropTarget: true)
        } catch {
            _ = try? context.database.dropCollection(temporary, in: databaseName)
            throw error
        }
    }

    /// The secondary indexes of the target as it is now (none if it does not exist).
    private func existingIndexes(_ databaseName: String, _ context: PipelineContext) -> [IndexSpec] {
        guard let entry = context.database.catalog.entry(databaseName, collection) else { return [] }
        return context.database.indexCatalog.indexes(of: entry.id)
    }
}
