import Osmanthus
import OsmanthusBSON

/// A built-in role granted on a database: what the coarse role checks of `Authorization` read.
/// User-defined roles resolve to these (the built-in roles they inherit) plus privileges.
struct RoleGrant: Hashable, Sendable {
    var role: BuiltinRole
    var db: String

    var document: Document { ["role": .string(role.rawValue), "db": .string(db)] }

    static let roleNotFound = OsmanthusError.Code(31, "RoleNotFound")

    /// The built-in grant `name` stands for; nil when it names no built-in role, or an
    /// any-database role off `admin`.
    init?(_ name: RoleName) {
        guard let role = BuiltinRole(rawValue: name.role), !role.anyDatabase || name.db == "admin" else { return nil }
        self.init(role: role, db: name.db)
    }

    init(role: BuiltinRole, db: String) {
        self.role = role
        self.db = db
    }

    /// Built-in grants only, from createUser's `roles` syntax; anything else is RoleNotFound (31).
    static func parse(_ roles: [BSONValue], db: String) throws -> [RoleGrant] {
        try RoleName.parse(roles, db: db).map { name in
            guard let grant = RoleGrant(name) else { throw name.notFound }
            return grant
        }
    }

    /// Whether this grant allows `action` on database `db`.
    func allows(_ action: BuiltinRole.Action, on database: String) -> Bool {
        guard role.actions.contains(action) else { return false }
        return role.anyDatabase || db == database
    }
}
