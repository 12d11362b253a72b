import Osmanthus
import OsmanthusBSON

/// User-defined roles live in the collection `admin.system.roles`, one document per role in
/// MongoDB's shape: `{_id: "<db>.<role>", role, db, privileges: [{resource, actions}], roles:
/// [{role, db}]}` (SPEC.md §13.3). A role's privileges apply on top of the built-in roles it
/// inherits; inheritance may not form a cycle.
struct RoleStore: Sendable {
    static let roleAlreadyExists = OsmanthusError.Code(51002, "Location51002")
    static let invalidRoleModification = OsmanthusError.Code(49, "InvalidRoleModification")
    static let graphContainsCycle = OsmanthusError.Code(5, "GraphContainsCycle")

    let database: Database

    private var roles: Collection { database.collection("system.roles", in: "admin") }

    // MARK: Changes

    func create(_ name: RoleName, privileges: [BSONValue], roles inherited: [BSONValue]) throws {
        guard !name.role.isEmpty else { throw OsmanthusError(.badValue, "Role name must be non-empty") }
        guard BuiltinRole(rawValue: name.role) == nil else {
            throw OsmanthusError(.badValue, "Cannot create roles with the same name as a built-in role")
        }
        let privileges = try checkedPrivileges(privileges, for: name)
        let inherited = try checkedRoles(inherited, for: name)
        let record: Document = [
            "_id": .string(name.id), "role": .string(name.role), "db": .string(name.db),
            "privileges": .array(privileges.map { .document($0.document) }),
            "roles": .array(inherited.map { .document($0.document) }),
        ]
        do {
            _ = try roles.insertOne(record)
        } catch let error as OsmanthusError where error.code == .duplicateKey {
            throw OsmanthusError(Self.roleAlreadyExists, "Role \"\(name)\" already exists")
        }
    }

    /// updateRole: replaces the privileges, the inherited roles, or both.
    func update(_ name: RoleName, privileges: [BSONValue]?, roles inherited: [BSONValue]?) throws {
        _ = try existing(name)
        var set = Document()
        if let privileges {
            set.append("privileges", .array(try checkedPrivileges(privileges, for: name).map { .document($0.document) }))
        }
        if let inherited {
            let checked = try checkedRoles(inherited, for: name)
            try refuseCycles(granting: checked, to: name)
            set.append("roles", .array(checked.map { .document($0.document) }))
        }
        guard !set.isEmpty else {
            throw OsmanthusError(.badValue, "Must specify at least one field to update in updateRole")
        }
        _ = try roles.updateOne(["_id": .string(name.id)], ["$set": .document(set)])
    }

    /// grantPrivilegesToRole / revokePrivilegesFromRole. Revoking removes the named actions from
    /// the privilege on the same resource, dropping a privilege left with none (as MongoDB does).
    func changePrivileges(of name: RoleName, _ values: [BSONValue], grant: Bool) throws {
        let record = try existing(name)
        var current = try Self.privileges(of: record)
        for privilege in try checkedPrivileges(values, for: name) {
            if let i = current.firstIndex(where: { $0.resource == privilege.resource }) {
                if grant {
                    current[i].actions.formUnion(privilege.actions)
                } else {
                    current[i].actions.subtract(privilege.actions)
                    if current[i].actions.isEmpty { current.remove(at: i) }
                }
            } else if grant {
                current.append(privilege)
            }
        }
        _ = try roles.updateOne(
            ["_id": .string(name.id)], ["$set": ["privileges": .array(current.map { .document($0.document) })]])
    }

    /// grantRolesToRole / revokeRolesFromRole.
    func changeRoles(of name: RoleName, _ values: [BSONValue], grant: Bool) throws {
        let record = try existing(name)
        let current = try RoleName.parse(record["roles"]?.arrayValue ?? [], db: name.db)
        let result: [RoleName]
        if grant {
            let added = try checkedRoles(values, for: name)
            try refuseCycles(granting: added, to: name)
            result = current + added.filter { !current.contains($0) }
        } else {
            let removed = try RoleName.parse(values, db: name.db)
            result = current.filter { !removed.contains($0) }
        }
        _ = try roles.updateOne(["_id": .string(name.id)], ["$set": ["roles": .array(result.map { .document($0.document) })]])
    }

    /// dropRole: removes the role, and takes it away from every user and role that held it.
    func drop(_ name: RoleName) throws {
        _ = try existing(name)
        _ = try roles.delete(["_id": .string(name.id)], limit: 1)
        try removeReferences(to: [name])
    }

    /// dropAllRolesFromDatabase: the number of roles removed.
    func dropAll(db: String) throws -> Int {
        let names = try roles.find(["db": .string(db)]).all().compactMap(Self.name(of:))
        let n = try roles.delete(["db": .string(db)])
        try removeReferences(to: names)
        return n
    }

    private func removeReferences(to names: [RoleName]) throws {
        guard !names.isEmpty else { return }
        let pulled: Document = ["$pull": ["roles": ["$in": .array(names.map { .document($0.document) })]]]
        _ = try database.collection("system.users", in: "admin").updateMany([:], pulled)
        _ = try roles.updateMany([:], pulled)
    }

    // MARK: Reading

    /// Refuses `names` unless each is a built-in role or a role of this store (31 RoleNotFound).
    func checkExist(_ names: [RoleName]) throws {
        for name in names where !name.isBuiltin {
            guard try record(name) != nil else { throw name.notFound }
        }
    }

    /// What holding `names` allows: the built-in grants and privileges reached through them. A
    /// role that no longer exists grants nothing.
    func resolve(_ names: [RoleName]) throws -> AuthorizedRoles {
        var result = AuthorizedRoles()
        var seen = Set<RoleName>()
        var pending = names
        while !pending.isEmpty {
            let name = pending.removeFirst()
            guard seen.insert(name).inserted else { continue }
            if let grant = RoleGrant(name) {
                result.roles.append(name)
                result.builtins.append(grant)
                continue
            }
            guard let record = try record(name) else { continue }
            result.roles.append(name)
            for privilege in try Self.privileges(of: record) where !result.privileges.contains(privilege) {
                result.privileges.append(privilege)
            }
            pending += try RoleName.parse(record["roles"]?.arrayValue ?? [], db: name.db)
        }
        return result
    }

    func record(_ name: RoleName) throws -> Document? {
        try roles.findOne(["_id": .string(name.id)])
    }

    /// rolesInfo's answer for the named roles (those that exist, in order), or for every role of
    /// `db` (built-in ones too when asked).
    func info(_ names: [RoleName]?, db: String, showPrivileges: Bool, showBuiltinRoles: Bool) throws -> [Document] {
        var wanted: [RoleName]
        if let names {
            wanted = names
        } else {
            wanted = try roles.find(["db": .string(db)]).all().compactMap(Self.name(of:))
            if showBuiltinRoles {
                wanted += BuiltinRole.allCases.map { RoleName(role: $0.rawValue, db: db) }.filter(\.isBuiltin)
            }
        }
        return try wanted.compactMap { name in
            let direct: [RoleName]
            var privileges: [Privilege] = []
            if name.isBuiltin {
                direct = []
            } else {
                guard let record = try record(name) else { return nil }
                direct = try RoleName.parse(record["roles"]?.arrayValue ?? [], db: name.db)
                privileges = try Self.privileges(of: record)
            }
            let inherited = try resolve(direct)
            var info: Document = [
                "_id": .string(name.id), "role": .string(name.role), "db": .string(name.db),
                "isBuiltin": .bool(name.isBuiltin),
                "roles": .array(direct.map { .document($0.document) }),
                "inheritedRoles": .array(inherited.roles.map { .document($0.document) }),
            ]
            if showPrivileges {
                info.append("privileges", .array(privileges.map { .document($0.document) }))
                let all = privileges + inherited.privileges.filter { !privileges.contains($0) }
                info.append("inheritedPrivileges", .array(all.map { .document($0.document) }))
            }
            return info
        }
    }

    // MARK: Checks

    private func existing(_ name: RoleName) throws -> Document {
        if name.isBuiltin {
            throw OsmanthusError(Self.invalidRoleModification, "Cannot modify or drop built-in role: \(name)")
        }
        guard let record = try record(name) else { throw name.notFound }
        return record
    }

    /// A role off `admin` may only hold privileges on its own database (MongoDB's rule).
    private func checkedPrivileges(_ values: [BSONValue], for name: RoleName) throws -> [Privilege] {
        try values.map { value in
            let privilege = try Privilege.parse(value)
            if name.db != "admin", privilege.database != name.db {
                throw OsmanthusError(
                    Self.invalidRoleModification,
                    "Roles on the '\(name.db)' database cannot be granted privileges that target other databases or the cluster")
            }
            return privilege
        }
    }

    /// Inherited roles must exist; a role off `admin` may only inherit roles of its own database.
    private func checkedRoles(_ values: [BSONValue], for name: RoleName) throws -> [RoleName] {
        let names = try RoleName.parse(values, db: name.db)
        for inherited in names where name.db != "admin" && inherited.db != name.db {
            throw OsmanthusError(
                Self.invalidRoleModification,
                "Roles on the '\(name.db)' database cannot be granted roles from other databases")
        }
        try checkExist(names)
        return names
    }

    private func refuseCycles(granting added: [RoleName], to name: RoleName) throws {
        for role in added where try role == name || resolve([role]).roles.contains(name) {
            throw OsmanthusError(
                Self.graphContainsCycle, "Granting \(role) to \(name) would introduce a cycle in the role graph")
        }
    }

    private static func privileges(of record: Document) throws -> [Privilege] {
        try (record["privileges"]?.arrayValue ?? []).map(Privilege.parse)
    }

    private static func name(of record: Document) -> RoleName? {
        guard case .string(let role)? = record["role"], case .string(let db)? = record["db"] else { return nil }
        return RoleName(role: role, db: db)
    }
}
