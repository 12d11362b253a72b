/// What a connection's users may do, resolved from their roles: every role they hold directly or
/// through user-defined roles, the built-in grants among them, and the user-defined roles'
/// privileges. Built when a user authenticates and whenever users or roles change.
struct AuthorizedRoles: Sendable, Equatable {
    /// Every role reached, direct ones first (connectionStatus's `authenticatedUserRoles`).
    var roles: [RoleName] = []
    var builtins: [RoleGrant] = []
    var privileges: [Privilege] = []

    init(roles: [RoleName] = [], builtins: [RoleGrant] = [], privileges: [Privilege] = []) {
        self.roles = roles
        self.builtins = builtins
        self.privileges = privileges
    }

    /// Built-in grants alone (tests and users without user-defined roles).
    init(builtins: [RoleGrant]) {
        self.init(roles: builtins.map { RoleName(role: $0.role.rawValue, db: $0.db) }, builtins: builtins)
    }

    /// The union with `other`, each role, grant and privilege once.
    func merged(with other: AuthorizedRoles) -> AuthorizedRoles {
        func union<T: Hashable>(_ a: [T], _ b: [T]) -> [T] {
            var seen = Set(a)
            return a + b.filter { seen.insert($0).inserted }
        }
        return AuthorizedRoles(
            roles: union(roles, other.roles), builtins: union(builtins, other.builtins),
            privileges: union(privileges, other.privileges))
    }

    /// Whether some privilege allows `action` on `target`.
    func allows(_ action: String, on target: Privilege.Target) -> Bool {
        privileges.contains { $0.allows(action, on: target) }
    }
}
