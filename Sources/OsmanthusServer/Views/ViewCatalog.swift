import Osmanthus
import OsmanthusBSON
import Synchronization

/// The views of every database, read from the `system.views` collections when the server starts
/// and kept in step by the commands that change them (create, collMod, drop, dropDatabase, and
/// any command on a `system.views` collection, which re-reads it). Every command asks whether it
/// names a view: with no views anywhere that is one atomic load.
final class ViewCatalog: Sendable {
    private let database: Database
    private let views = Mutex<[String: ViewDefinition]>([:])
    private let count = Atomic<Int>(0)

    init(database: Database) {
        self.database = database
    }

    /// Reads every database's views (at startup).
    func loadAll() throws {
        for info in try database.listDatabases() { try reload(db: info.name) }
    }

    /// Re-reads `db`'s views from its `system.views`.
    func reload(db: String) throws {
        let records = try database.listCollections(in: db).contains { $0.name == "system.views" }
            ? database.collection("system.views", in: db).find([:]).all() : []
        let loaded = records.compactMap { ViewDefinition(record: $0, db: db) }
        views.withLock { views in
            views = views.filter { $0.value.db != db }
            for view in loaded { views[view.namespace] = view }
            count.store(views.count, ordering: .releasing)
        }
    }

    /// The view `request` names as its collection, if any.
    func view(for request: CommandRequest) -> ViewDefinition? {
        guard count.load(ordering: .acquiring) > 0, case .string(let name) = request.argument else { return nil }
        return view(named: name, in: request.databaseName)
    }

    func view(named name: String, in db: String) -> ViewDefinition? {
        guard count.load(ordering: .acquiring) > 0 else { return nil }
        return views.withLock { $0["\(db).\(name)"] }
    }

    func views(in db: String) -> [ViewDefinition] {
        views.withLock { $0.values.filter { $0.db == db }.sorted { $0.name < $1.name } }
    }

    /// The collection a view finally reads and the whole pipeline over it (the innermost view's
    /// stages first). 165 past `ViewDefinition.maxDepth` views, which also stops a cycle written
    /// into `system.views` by hand.
    func resolve(_ view: ViewDefinition) throws -> (collection: String, pipeline: [Document]) {
        var pipeline = view.pipeline
        var source = view.viewOn
        var depth = 1
        while let inner = self.view(named: source, in: view.db) {
            depth += 1
            guard depth <= ViewDefinition.maxDepth else {
                throw OsmanthusError(
                    ViewDefinition.viewDepthLimitExceeded,
                    "View depth too deep or view cycle detected; maximum depth is \(ViewDefinition.maxDepth)")
            }
            pipeline = inner.pipeline + pipeline
            source = inner.viewOn
        }
        return (source, pipeline)
    }

    /// Stores `view` (new or changed) in its database's `system.views`; refuses one whose chain
    /// would come back to it (5 GraphContainsCycle) or exceed the depth limit.
    func save(_ view: ViewDefinition, replacing: Bool) throws {
        var seen: Set<String> = [view.name]
        var source = view.viewOn
        var depth = 1
        while true {
            guard seen.insert(source).inserted else {
                throw OsmanthusError(
                    RoleStore.graphContainsCycle, "View cycle detected: \(view.namespace) would read itself through \(source)")
            }
            guard let inner = self.view(named: source, in: view.db) else { break }
            depth += 1
            guard depth <= ViewDefinition.maxDepth else {
                throw OsmanthusError(
                    ViewDefinition.viewDepthLimitExceeded, "View depth too deep; maximum depth is \(ViewDefinition.maxDepth)")
            }
            source = inner.viewOn
        }
        let collection = database.collection("system.views", in: view.db)
        if replacing {
            _ = try collection.updateOne(["_id": .string(view.namespace)], ["$set": [
                "viewOn": .string(view.viewOn), "pipeline": .array(view.pipeline.map { .document($0) }),
            ]])
        } else {
            _ = try collection.insertOne(view.record)
        }
        try reload(db: view.db)
    }

    func drop(_ view: ViewDefinition) throws {
        _ = try database.collection("system.views", in: view.db).delete(["_id": .string(view.namespace)], limit: 1)
        try reload(db: view.db)
    }

    /// Whether `request` may have changed views other than through the view commands.
    static func mayChangeViews(_ request: CommandRequest) -> Bool {
        request.name == "dropDatabase" || request.argument.stringValue == "system.views"
    }
}
