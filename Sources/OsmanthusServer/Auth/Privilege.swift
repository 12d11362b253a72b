import Osmanthus
import OsmanthusBSON

/// One privilege of a user-defined role (SPEC.md §13.3): actions on a resource, in MongoDB's
/// shape `{resource: {db, collection} | {cluster: true} | {anyResource: true}, actions: [...]}`.
struct Privilege: Hashable, Sendable {
    enum Resource: Hashable, Sendable {
        /// `{db, collection}`; an empty string matches any database or any (non-system) collection.
        /// `{db: "x", collection: ""}` is also the database `x` itself, for database actions.
        case namespace(db: String, collection: String)
        case cluster
        case anyResource
    }

    /// What a command asks of a privilege: an action on a collection, a database or the server.
    enum Target: Hashable, Sendable {
        case collection(db: String, name: String)
        case database(String)
        case cluster
    }

    var resource: Resource
    var actions: Set<String>

    /// The action names MongoDB defines that roles here may hold (the subset a command checks is
    /// in `Authorization.neededPrivileges`). Others are refused as MongoDB refuses unknown ones.
    static let knownActions: Set<String> = [
        "find", "insert", "update", "remove", "bypassDocumentValidation", "useUUID", "changeStream",
        "createCollection", "dropCollection", "createIndex", "dropIndex", "collMod", "collStats", "dbStats",
        "listCollections", "listIndexes", "listDatabases", "killCursors", "killAnyCursor", "dropDatabase",
        "renameCollectionSameDB", "convertToCapped", "compact", "reIndex", "validate", "dbHash", "enableProfiler",
        "planCacheRead", "planCacheWrite", "storageDetails", "indexStats",
        "changeOwnPassword", "changeOwnCustomData", "changePassword", "changeCustomData", "createUser", "dropUser",
        "viewUser", "createRole", "dropRole", "grantRole", "revokeRole", "viewRole", "setAuthenticationRestriction",
        "serverStatus", "hostInfo", "inprog", "killop", "killAnySession", "listSessions", "getLog",
        "getCmdLineOpts", "getParameter", "setParameter", "replSetGetStatus", "connPoolStats", "top", "netstat",
        "fsync", "shutdown", "logRotate", "dropConnections", "anyAction",
    ]

    static func parse(_ value: BSONValue) throws -> Privilege {
        guard case .document(let document) = value,
            case .document(let resource)? = document["resource"],
            case .array(let actionValues)? = document["actions"]
        else {
            throw OsmanthusError(.failedToParse, "a privilege is {resource: {...}, actions: [...]}")
        }
        var actions = Set<String>()
        for value in actionValues {
            guard case .string(let action) = value, knownActions.contains(action) else {
                throw OsmanthusError(.badValue, "Unrecognized action privilege string: \(value.stringValue ?? "\(value)")")
            }
            actions.insert(action)
        }
        guard !actions.isEmpty else { throw OsmanthusError(.badValue, "a privilege needs at least one action") }
        return Privilege(resource: try parseResource(resource), actions: actions)
    }

    private static func parseResource(_ d: Document) throws -> Resource {
        if d["cluster"] == .bool(true), d.count == 1 { return .cluster }
        if d["anyResource"] == .bool(true), d.count == 1 { return .anyResource }
        if case .string(let db)? = d["db"], case .string(let collection)? = d["collection"], d.count == 2 {
            return .namespace(db: db, collection: collection)
        }
        throw OsmanthusError(.badValue, "a resource is {db: <string>, collection: <string>}, {cluster: true} or {anyResource: true}")
    }

    var document: Document {
        let resource: Document =
            switch self.resource {
            case .namespace(let db, let collection): ["db": .string(db), "collection": .string(collection)]
            case .cluster: ["cluster": true]
            case .anyResource: ["anyResource": true]
            }
        return ["resource": .document(resource), "actions": .array(actions.sorted().map { .string($0) })]
    }

    /// Whether this privilege allows `action` on `target`, with MongoDB's matching rules.
    func allows(_ action: String, on target: Target) -> Bool {
        guard actions.contains(action) || actions.contains("anyAction") else { return false }
        switch (resource, target) {
        case (.anyResource, _):
            return true
        case (.cluster, .cluster):
            return true
        case (.namespace(let db, let collection), .collection(let targetDB, let name)):
            // Only anyResource reaches system collections.
            guard !name.hasPrefix("system.") else { return false }
            return (db.isEmpty || db == targetDB) && (collection.isEmpty || collection == name)
        case (.namespace(let db, let collection), .database(let targetDB)):
            return collection.isEmpty && (db.isEmpty || db == targetDB)
        default:
            return false
        }
    }

    /// The database this privilege is limited to; nil for cluster-wide or any-database ones.
    var database: String? {
        if case .namespace(let db, _) = resource, !db.isEmpty { return db }
        return nil
    }
}
