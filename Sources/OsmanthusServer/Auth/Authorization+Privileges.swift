import Osmanthus
import OsmanthusBSON

/// The privileges a command needs from user-defined roles (SPEC.md §13.3): MongoDB's action
/// names on the collection, database or cluster the command touches. Checked only when the
/// user's built-in roles don't already allow the command.
extension Authorization {
    struct Need: Hashable {
        var action: String
        var target: Privilege.Target
    }

    /// nil when no privilege can allow the command (built-in roles or root only).
    static func neededPrivileges(_ request: CommandRequest) -> [Need]? {
        let name = request.name
        let db = request.databaseName
        let argument = request.argument.stringValue
        func on(_ collection: String?, _ actions: String...) -> [Need]? {
            guard let collection else { return nil }
            return actions.map { Need(action: $0, target: .collection(db: db, name: collection)) }
        }
        func onDatabase(_ actions: String...) -> [Need] { actions.map { Need(action: $0, target: .database(db)) } }
        func onCluster(_ actions: String...) -> [Need] { actions.map { Need(action: $0, target: .cluster) } }
        // System collections stay root's (admin.system.users holds credentials).
        if let argument, argument.hasPrefix("system.") { return nil }
        switch name {
        case "find", "count", "distinct": return on(argument, "find")
        case "getMore": return on(request.body["collection"]?.stringValue, "find")
        case "killCursors": return on(argument, "killCursors")
        case "listIndexes": return on(argument, "listIndexes")
        case "collStats": return on(argument, "collStats")
        case "insert": return on(argument, "insert")
        case "update": return on(argument, "update")
        case "delete": return on(argument, "remove")
        case "findAndModify", "findandmodify":
            return on(argument, "find", request.body["remove"] == .bool(true) ? "remove" : "update")
        case "create": return on(argument, "createCollection")
        case "drop": return on(argument, "dropCollection")
        case "createIndexes": return on(argument, "createIndex")
        case "dropIndexes", "deleteIndexes": return on(argument, "dropIndex")
        case "collMod": return on(argument, "collMod")
        case "listCollections": return onDatabase("listCollections")
        case "dbStats": return onDatabase("dbStats")
        case "dropDatabase": return onDatabase("dropDatabase")
        case "createUser": return onDatabase("createUser")
        case "dropUser": return onDatabase("dropUser")
        case "usersInfo": return onDatabase("viewUser")
        case "grantRolesToUser": return onDatabase("grantRole")
        case "revokeRolesFromUser": return onDatabase("revokeRole")
        case "updateUser":
            var needs: [Need] = []
            if request.body["pwd"] != nil || request.body["mechanisms"] != nil { needs += onDatabase("changePassword") }
            if request.body["roles"] != nil { needs += onDatabase("grantRole", "revokeRole") }
            return needs.isEmpty ? onDatabase("changePassword") : needs
        case "createRole": return onDatabase("createRole")
        case "dropRole", "dropAllRolesFromDatabase": return onDatabase("dropRole")
        case "updateRole": return onDatabase("grantRole", "revokeRole")
        case "grantPrivilegesToRole", "grantRolesToRole": return onDatabase("grantRole")
        case "revokePrivilegesFromRole", "revokeRolesFromRole": return onDatabase("revokeRole")
        case "rolesInfo": return onDatabase("viewRole")
        case "serverStatus", "osmanthusStats": return onCluster("serverStatus")
        case "hostInfo": return onCluster("hostInfo")
        case "currentOp": return onCluster("inprog")
        case "getLog": return onCluster("getLog")
        case "getCmdLineOpts": return onCluster("getCmdLineOpts")
        case "getParameter": return onCluster("getParameter")
        case "replSetGetStatus": return onCluster("replSetGetStatus")
        case "killOp": return onCluster("killop")
        case "killAllSessions": return onCluster("killAnySession")
        case "osmanthusCompact": return onCluster("compact")
        case "explain":
            guard case .document(let inner) = request.argument,
                let explained = try? CommandRequest(body: inner, databaseName: db)
            else { return nil }
            return neededPrivileges(explained)
        case "aggregate":
            return aggregateNeeds(request)
        case "renameCollection":
            guard let source = argument.flatMap({ try? Namespace.split($0) }),
                let target = request.body["to"]?.stringValue.flatMap({ try? Namespace.split($0) })
            else { return nil }
            let from = Privilege.Target.collection(db: source.database, name: source.collection)
            let to = Privilege.Target.collection(db: target.database, name: target.collection)
            if source.database == target.database {
                return [Need(action: "renameCollectionSameDB", target: from), Need(action: "renameCollectionSameDB", target: to)]
            }
            return ["find", "dropCollection"].map { Need(action: $0, target: from) }
                + ["insert", "createCollection", "createIndex"].map { Need(action: $0, target: to) }
        default:
            return nil
        }
    }

    /// find on the collection (changeStream too for a change stream; over the whole cluster for
    /// allChangesForCluster); `$out` inserts into and removes from its target.
    private static func aggregateNeeds(_ request: CommandRequest) -> [Need]? {
        let db = request.databaseName
        let stages = request.body["pipeline"]?.arrayValue?.compactMap(\.documentValue) ?? []
        let collection = request.argument.stringValue ?? ""  // `aggregate: 1` reads the database
        var needs: [Need] = []
        if let first = stages.first?["$changeStream"]?.documentValue {
            // Every database: only a privilege on {db: "", collection: ""} (or anyResource) matches
            // the database target "".
            let target: Privilege.Target =
                first["allChangesForCluster"] == .bool(true) ? .database("")
                : collection.isEmpty ? .database(db) : .collection(db: db, name: collection)
            needs += ["changeStream", "find"].map { Need(action: $0, target: target) }
        } else {
            let target: Privilege.Target = collection.isEmpty ? .database(db) : .collection(db: db, name: collection)
            needs.append(Need(action: "find", target: target))
        }
        if let out = stages.last?["$out"] {
            let targetDB = out.documentValue?["db"]?.stringValue ?? db
            guard let name = out.stringValue ?? out.documentValue?["coll"]?.stringValue else { return nil }
            needs += ["insert", "remove"].map { Need(action: $0, target: .collection(db: targetDB, name: name)) }
        }
        return needs
    }
}
