import Osmanthus
import OsmanthusBSON

/// Users live in the collection `admin.system.users`, one document per user in MongoDB's
/// shape: `{_id: "<db>.<user>", user, db, roles, credentials: {"SCRAM-SHA-1": {iterationCount,
/// salt, storedKey, serverKey}, "SCRAM-SHA-256": {...}}}` (base64 strings). No password is
/// stored, only the salted keys SCRAM needs.
struct UserStore: Sendable {
    static let userAlreadyExists = OsmanthusError.Code(51003, "Location51003")
    static let userNotFound = OsmanthusError.Code(11, "UserNotFound")

    let database: Database

    private var users: Collection { database.collection("system.users", in: "admin") }

    /// Adds a user; 51003 if it exists.
    func create(user: String, db: String, password: String, roles: [BSONValue] = [],
                mechanisms: [SCRAMMechanism] = SCRAMMechanism.allCases) throws {
        guard !user.isEmpty, !password.isEmpty else {
            throw OsmanthusError(.badValue, "user name and password must not be empty")
        }
        // Stored as MongoDB does, each role as {role, db}; unknown roles are RoleNotFound (31).
        let grants = try RoleName.parse(roles, db: db)
        try RoleStore(database: database).checkExist(grants)
        if mechanisms.contains(.sha256) {
            // SCRAM-SHA-256 logins compare names SASLprepped: refuse one that cannot be.
            _ = try SASLprep.prepare(user, field: "user name")
        }
        var credentials = Document()
        for mechanism in mechanisms {
            credentials.append(
                mechanism.rawValue, .document(try SCRAMCredential.derive(mechanism, user: user, password: password).document))
        }
        let record: Document = [
            "_id": .string("\(db).\(user)"), "user": .string(user), "db": .string(db),
            "credentials": .document(credentials), "roles": .array(grants.map { .document($0.document) }),
        ]
        do {
            _ = try users.insertOne(record)
        } catch let error as OsmanthusError where error.code == .duplicateKey {
            throw OsmanthusError(Self.userAlreadyExists, "User \"\(user)@\(db)\" already exists")
        }
    }

    /// Removes a user; UserNotFound (11) if there is none.
    func drop(user: String, db: String) throws {
        guard try users.delete(["_id": .string("\(db).\(user)")], limit: 1) == 1 else {
            throw OsmanthusError(Self.userNotFound, "User '\(user)@\(db)' not found")
        }
    }

    /// updateUser: a new password (credentials for `mechanisms`, or the user's current ones),
    /// new roles, or fewer mechanisms (without a password: a subset of the current ones).
    func update(user: String, db: String, password: String?, roles: [BSONValue]?, mechanisms: [SCRAMMechanism]?) throws {
        guard let record = try record(user: user, db: db) else {
            throw OsmanthusError(Self.userNotFound, "Could not find user \"\(user)\" for db \"\(db)\"")
        }
        var set = Document()
        let current = record["credentials"]?.documentValue ?? Document()
        if let password {
            guard !password.isEmpty else { throw OsmanthusError(.badValue, "password must not be empty") }
            let wanted = mechanisms ?? current.keys.compactMap { SCRAMMechanism(rawValue: $0) }
            var credentials = Document()
            for mechanism in wanted {
                credentials.append(
                    mechanism.rawValue,
                    .document(try SCRAMCredential.derive(mechanism, user: user, password: password).document))
            }
            set.append("credentials", .document(credentials))
        } else if let mechanisms {
            var credentials = Document()
            for mechanism in mechanisms {
                guard let existing = current[mechanism.rawValue] else {
                    throw OsmanthusError(
                        .badValue, "mechanism \(mechanism.rawValue) needs a password: the user has no such credential")
                }
                credentials.append(mechanism.rawValue, existing)
            }
            guard !credentials.isEmpty else { throw OsmanthusError(.badValue, "a user needs at least one mechanism") }
            set.append("credentials", .document(credentials))
        }
        if let roles {
            let names = try RoleName.parse(roles, db: db)
            try RoleStore(database: database).checkExist(names)
            set.append("roles", .array(names.map { .document($0.document) }))
        }
        guard !set.isEmpty else {
            throw OsmanthusError(.badValue, "Must specify at least one field to update in updateUser")
        }
        _ = try users.updateOne(["_id": .string("\(db).\(user)")], ["$set": .document(set)])
    }

    /// The user's roles after adding (`grant`) or removing `roles`; UserNotFound if none.
    func changeRoles(user: String, db: String, _ roles: [BSONValue], grant: Bool) throws {
        guard let record = try record(user: user, db: db) else {
            throw OsmanthusError(Self.userNotFound, "Could not find user \"\(user)\" for db \"\(db)\"")
        }
        let current = try RoleName.parse(record["roles"]?.arrayValue ?? [], db: db)
        let changed = try RoleName.parse(roles, db: db)
        if grant { try RoleStore(database: database).checkExist(changed) }
        let result = grant ? current + changed.filter { !current.contains($0) } : current.filter { !changed.contains($0) }
        _ = try users.updateOne(
            ["_id": .string("\(db).\(user)")], ["$set": ["roles": .array(result.map { .document($0.document) })]])
    }

    /// What the user's roles allow, built-in and user-defined; nil when the user does not exist
    /// (dropped).
    func authorizedRoles(user: String, db: String) throws -> AuthorizedRoles? {
        guard let record = try record(user: user, db: db) else { return nil }
        return try RoleStore(database: database).resolve(RoleName.parse(record["roles"]?.arrayValue ?? [], db: db))
    }

    func record(user: String, db: String) throws -> Document? {
        try users.findOne(["_id": .string("\(db).\(user)")])
    }

    func credential(user: String, db: String, mechanism: SCRAMMechanism) throws -> SCRAMCredential? {
        guard let record = try record(user: user, db: db),
            case .document(let credentials)? = record["credentials"],
            case .document(let credential)? = credentials[mechanism.rawValue]
        else { return nil }
        return SCRAMCredential(credential)
    }

    /// Users of `db` (all of them, or those named), without credentials unless asked.
    func list(db: String?, names: [String]?, showCredentials: Bool) throws -> [Document] {
        var filter = Document()
        if let db { filter.append("db", .string(db)) }
        if let names { filter.append("user", ["$in": .array(names.map { .string($0) })]) }
        return try users.find(filter).map { record in
            var info = record
            var mechanisms: [BSONValue] = []
            if case .document(let credentials)? = record["credentials"] {
                mechanisms = credentials.keys.map { .string($0) }
            }
            if !showCredentials { _ = info.remove("credentials") }
            info.set("mechanisms", .array(mechanisms))
            return info
        }
    }

    /// Whether `request` may change users or roles other than through the user and role
    /// commands: a write to `admin.system.users` or `admin.system.roles` (root only) or dropping
    /// `admin`.
    static func mayChangeUsers(_ request: CommandRequest) -> Bool {
        guard request.databaseName == "admin" else { return false }
        let collection = request.argument.stringValue
        return request.name == "dropDatabase" || collection == "system.users" || collection == "system.roles"
    }

    var isEmpty: Bool {
        get throws { try users.count() == 0 }
    }
}
