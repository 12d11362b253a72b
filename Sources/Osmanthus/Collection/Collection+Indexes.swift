import OsmanthusBSON
import OsmanthusStorage

/// Creating, listing and dropping secondary indexes (SPEC.md §11.5).
extension Collection {
    /// Creates an index and returns its name once it is built. Building is online: writes go on
    /// while existing documents are indexed. Creating an index that exists with the same
    /// definition and name does nothing; same name, other keys: IndexKeySpecsConflict (86); same
    /// keys, other name or options: IndexOptionsConflict (85).
    @discardableResult
    public func createIndex(_ keys: Document, options: IndexOptions = IndexOptions()) throws -> String {
        try wrapping {
            let entry = try ensureEntry()
            var spec = try IndexSpec(keys: keys, options: options)
            spec.collectionId = entry.id
            let registered: IndexSpec? = try database.indexCatalog.changeLock.withLock { _ in
                let existing = database.indexCatalog.indexes(of: entry.id)
                if let same = existing.first(where: { $0.name == spec.name }) {
                    if same.sameDefinition(spec) { return nil }
                    throw OsmanthusError(
                        .indexKeySpecsConflict,
                        "An existing index has the same name as the requested index. Requested index: \(spec.description), existing index: \(same.description)")
                }
                if let same = existing.first(where: { $0.fields == spec.fields && $0.partialFilterExpression?.bytes == spec.partialFilterExpression?.bytes }) {
                    throw OsmanthusError(
                        .indexOptionsConflict,
                        "Index already exists with a different name: \(same.name)")
                }
                // Registered as building under every document lock: commits that did not see the
                // index have finished, and every later commit maintains it.
                return try database.locks.withAllLocks {
                    try database.indexCatalog.add(spec, sync: database.options.syncWrites)
                }
            }
            guard let registered else { return spec.name }
            try database.buildIndex(registered, of: entry)
            return registered.name
        }
    }

    /// Creates several indexes; returns their names.
    @discardableResult
    public func createIndexes(_ models: [(keys: Document, options: IndexOptions)]) throws -> [String] {
        try models.map { try createIndex($0.keys, options: $0.options) }
    }

    /// The indexes in MongoDB's listIndexes shape, `_id_` first. Indexes still building are
    /// listed too.
    public func listIndexes() throws -> [Document] {
        var out: [Document] = [["v": .int32(2), "key": ["_id": .int32(1)], "name": "_id_"]]
        guard let entry else { return out }
        out += database.indexCatalog.indexes(of: entry.id).map(\.description)
        return out
    }

    /// The ready indexes the planner may use.
    var readyIndexes: [IndexSpec] {
        guard let entry else { return [] }
        return database.indexCatalog.indexes(of: entry.id).filter { $0.state == .ready }
    }

    /// Drops an index by name or key pattern: IndexNotFound (27) if there is none.
    public func dropIndex(_ nameOrKeys: BSONValue) throws {
        try wrapping {
            if nameOrKeys == .string("_id_") || nameOrKeys.documentValue == ["_id": .int32(1)] {
                throw OsmanthusError(.invalidOptions, "cannot drop _id index")
            }
            guard let entry else {
                throw OsmanthusError(.namespaceNotFound, "ns not found \(namespace)")
            }
            try database.indexCatalog.changeLock.withLock { _ in
                let specs = database.indexCatalog.indexes(of: entry.id)
                let found: [IndexSpec]
                switch nameOrKeys {
                case .string(let name): found = specs.filter { $0.name == name }
                case .document(let keys):
                    found = specs.filter { $0.keyPattern.bytes == keys.bytes || $0.fields == (try? IndexSpec(keys: keys, options: IndexOptions()))?.fields }
                default: found = []
                }
                guard let spec = found.first else {
                    throw OsmanthusError(.indexNotFound, "index not found with name [\(nameOrKeys)]")
                }
                if found.count > 1 {
                    throw OsmanthusError(.badValue, "\(found.count) indexes found for key: \(nameOrKeys), identify by name instead")
                }
                try database.dropIndex(spec, recordingIn: entry)
            }
        }
    }

    /// Drops every index but `_id_`.
    public func dropIndexes() throws {
        try wrapping {
            guard let entry else { return }
            try database.indexCatalog.changeLock.withLock { _ in
                for spec in database.indexCatalog.indexes(of: entry.id) {
                    try database.dropIndex(spec, recordingIn: entry)
                }
            }
        }
    }

    /// Commits an insertMany batch; a document an index refuses is reported as that document's
    /// error, and the rest (ordered: those before it) are committed.
    func commitInsertions(_ changes: [DocumentChange], docs: [Int], ordered: Bool, _ result: inout InsertManyResult)
        throws
    {
        var pending = Array(zip(changes, docs))
        while !pending.isEmpty {
            do {
                try database.commitReportingFailure(pending.map(\.0))
                return
            } catch let f as IndexMaintainer.ChangeFailure {
                let doc = pending[f.changeIndex].1
                result.errors.append((doc, f.error))
                if ordered {
                    for (_, d) in pending[f.changeIndex...] { result.insertedIds[d] = nil }
                    pending = Array(pending[..<f.changeIndex])
                } else {
                    result.insertedIds[doc] = nil
                    pending.remove(at: f.changeIndex)
                }
            }
        }
    }
}
