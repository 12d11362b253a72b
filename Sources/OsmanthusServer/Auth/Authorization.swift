import Osmanthus
import OsmanthusBSON

/// Per-command role checks for authenticated users (SPEC.md §13.3): each command needs one of
/// a few actions on the databases it touches, or a privilege only `root` has (server
/// administration, `system.*` collections). A command left out of the table needs `root`.
/// Checked by the dispatcher only when authentication is required.
enum Authorization {
    /// What a command needs.
    enum Requirement {
        /// Nothing beyond being authenticated (handshake, sessions, transactions' end).
        case authenticated
        /// One of `actions` on every one of `databases`.
        case oneOf(Set<BuiltinRole.Action>, databases: [String])
        /// An action on every database (cluster-wide change streams) or on the server itself.
        case everyDatabase(BuiltinRole.Action)
        /// Only `root`.
        case root
    }

    static let noRole: Set<String> = [
        "hello", "isMaster", "ismaster", "ping", "buildInfo", "buildinfo", "whatsmyuri", "connectionStatus",
        "listCommands", "startSession", "refreshSessions", "endSessions", "killSessions", "logout", "saslStart",
        "saslContinue", "commitTransaction", "abortTransaction",
    ]
    static let reads: Set<String> = ["find", "count", "distinct", "getMore", "killCursors"]
    static let readsOrAdmin: Set<String> = ["listCollections", "listIndexes", "dbStats", "collStats"]
    static let writes: Set<String> = ["insert", "update", "delete", "findAndModify", "findandmodify"]
    static let writesOrAdmin: Set<String> = ["create", "drop", "createIndexes", "dropIndexes", "deleteIndexes"]
    static let admin: Set<String> = ["collMod", "dropDatabase"]
    static let monitor: Set<String> = [
        "serverStatus", "hostInfo", "currentOp", "getLog", "getCmdLineOpts", "getParameter", "replSetGetStatus",
        "osmanthusStats",
    ]
    static let manage: Set<String> = ["killOp", "killAllSessions", "osmanthusCompact"]
    static let backups: Set<String> = ["osmanthusBackup", "osmanthusSnapshot"]
    static let users: Set<String> = [
        "createUser", "updateUser", "grantRolesToUser", "revokeRolesFromUser", "dropUser", "usersInfo",
        "createRole", "updateRole", "dropRole", "dropAllRolesFromDatabase", "grantPrivilegesToRole",
        "revokePrivilegesFromRole", "grantRolesToRole", "revokeRolesFromRole", "rolesInfo",
    ]

    /// What `request` needs.
    static func requirement(_ request: CommandRequest) -> Requirement {
        let name = request.name
        let db = request.databaseName
        if noRole.contains(name) { return .authenticated }
        // System collections (admin.system.users holds credentials) are root's alone.
        if let collection = request.argument.stringValue, collection.hasPrefix("system.") { return .root }
        if reads.contains(name) { return .oneOf([.read], databases: [db]) }
        if readsOrAdmin.contains(name) { return .oneOf([.read, .dbAdmin], databases: [db]) }
        if writes.contains(name) { return .oneOf([.write], databases: [db]) }
        if writesOrAdmin.contains(name) { return .oneOf([.write, .dbAdmin], databases: [db]) }
        if admin.contains(name) { return .oneOf([.dbAdmin], databases: [db]) }
        if users.contains(name) { return .oneOf([.userAdmin], databases: [db]) }
        // A user may always see its own operations (currentOp with $ownOps), as in MongoDB.
        if name == "currentOp", request.body["$ownOps"] == .bool(true) { return .authenticated }
        if monitor.contains(name) { return .everyDatabase(.monitorCluster) }
        if manage.contains(name) { return .everyDatabase(.manageCluster) }
        if backups.contains(name) { return .everyDatabase(.takeBackup) }
        switch name {
        case "explain":
            // The explained command's own needs (explain of a write writes nothing, but MongoDB
            // asks for the same privileges).
            guard case .document(let inner) = request.argument,
                let explained = try? CommandRequest(body: inner, databaseName: db)
            else { return .oneOf([.read], databases: [db]) }
            return requirement(explained)
        case "aggregate":
            return aggregateRequirement(request)
        case "listDatabases":
            // Without an any-database role the command lists only the user's databases.
            return .authenticated
        case "renameCollection":
            let source = request.argument.stringValue.flatMap { try? Namespace.split($0).database }
            let target = request.body["to"]?.stringValue.flatMap { try? Namespace.split($0).database }
            return .oneOf([.write], databases: [source, target].compactMap { $0 })
        default:
            return .root
        }
    }

    /// Read on the database; `$out` also writes its target's database; a change stream over the
    /// whole cluster reads every database.
    private static func aggregateRequirement(_ request: CommandRequest) -> Requirement {
        let db = request.databaseName
        let stages = request.body["pipeline"]?.arrayValue?.compactMap(\.documentValue) ?? []
        if let first = stages.first?["$changeStream"]?.documentValue, first["allChangesForCluster"] == .bool(true) {
            return .everyDatabase(.read)
        }
        guard let out = stages.last?["$out"] else { return .oneOf([.read], databases: [db]) }
        let target = out.documentValue?["db"]?.stringValue ?? db
        if target == db { return .oneOf([.write], databases: [db]) }  // readWrite reads too
        return .oneOf([.write], databases: [db, target])
    }

    /// The databases listDatabases shows to a user: nil for all of them (every any-database role
    /// carries MongoDB's listDatabases privilege, as does the listDatabases action or a privilege
    /// on every database), else those the user holds any role or privilege on (MongoDB's
    /// `authorizedDatabases`).
    static func listableDatabases(_ roles: AuthorizedRoles) -> Set<String>? {
        if roles.builtins.contains(where: { $0.role.anyDatabase }) { return nil }
        if roles.allows("listDatabases", on: .cluster) { return nil }
        var databases = Set(roles.builtins.map(\.db))
        for privilege in roles.privileges {
            guard case .namespace(let db, _) = privilege.resource else { continue }
            if db.isEmpty { return nil }
            databases.insert(db)
        }
        return databases
    }

    /// nil when `roles` allow `request` (through a built-in role, or the privileges of
    /// user-defined ones), else the Unauthorized error.
    static func check(_ request: CommandRequest, roles: AuthorizedRoles) -> OsmanthusError? {
        if allowedByBuiltins(request, roles.builtins) { return nil }
        if !roles.privileges.isEmpty, let needed = neededPrivileges(request),
            needed.allSatisfy({ roles.allows($0.action, on: $0.target) })
        {
            return nil
        }
        return OsmanthusError(
            .unauthorized, "not authorized on \(request.databaseName) to execute command \(shown(request))")
    }

    /// `check` for built-in roles alone.
    static func check(_ request: CommandRequest, grants: [RoleGrant]) -> OsmanthusError? {
        check(request, roles: AuthorizedRoles(builtins: grants))
    }

    private static func allowedByBuiltins(_ request: CommandRequest, _ grants: [RoleGrant]) -> Bool {
        switch requirement(request) {
        case .authenticated:
            return true
        case .oneOf(let actions, let databases):
            return databases.allSatisfy { db in
                grants.contains { grant in actions.contains { grant.allows($0, on: db) } }
            }
        case .everyDatabase(let action):
            return grants.contains { $0.role.anyDatabase && $0.role.actions.contains(action) }
        case .root:
            return grants.contains { $0.role == .root }
        }
    }

    /// The command as MongoDB's message shows it: `{ find: "c", ..., $db: "test" }` (session and
    /// cluster-time fields left out).
    private static func shown(_ request: CommandRequest) -> String {
        var parts: [String] = []
        for (key, value) in request.body where !["lsid", "$clusterTime", "txnNumber", "$readPreference"].contains(key) {
            let text: String
            switch value {
            case .string(let s): text = "\"\(s)\""
            default: text = "\(value)"
            }
            parts.append("\(key): \(text)")
        }
        parts.append("$db: \"\(request.databaseName)\"")
        return "{ " + parts.joined(separator: ", ") + " }"
    }
}
