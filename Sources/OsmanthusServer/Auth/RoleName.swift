import Osmanthus
import OsmanthusBSON

/// A role as users and roles name it: `{role, db}`, built-in or user-defined.
struct RoleName: Hashable, Sendable, CustomStringConvertible {
    var role: String
    var db: String

    var document: Document { ["role": .string(role), "db": .string(db)] }

    /// `_id` of a user-defined role's record in `admin.system.roles`.
    var id: String { "\(db).\(role)" }

    var description: String { "\(role)@\(db)" }

    var isBuiltin: Bool { RoleGrant(self) != nil }

    var notFound: OsmanthusError { OsmanthusError(RoleGrant.roleNotFound, "Could not find role: \(self)") }

    /// The roles of a `roles` array: `"name"` (on `db`) or `{role, db}`, each once, in order.
    /// Only the syntax is checked here; whether each exists is the role store's question.
    static func parse(_ roles: [BSONValue], db: String) throws -> [RoleName] {
        var seen = Set<RoleName>()
        return try roles.compactMap { value in
            let name: RoleName
            switch value {
            case .string(let role):
                name = RoleName(role: role, db: db)
            case .document(let d):
                guard case .string(let role)? = d["role"], case .string(let on)? = d["db"] else {
                    throw OsmanthusError(.badValue, "role names must be strings or {role: <string>, db: <string>} documents")
                }
                name = RoleName(role: role, db: on)
            default:
                throw OsmanthusError(.badValue, "role names must be strings or {role: <string>, db: <string>} documents")
            }
            return seen.insert(name).inserted ? name : nil
        }
    }
}
