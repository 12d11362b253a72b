import Osmanthus
import OsmanthusBSON

/// User-defined roles (SPEC.md §13.3): createRole, updateRole, dropRole,
/// dropAllRolesFromDatabase, grantPrivilegesToRole, revokePrivilegesFromRole, grantRolesToRole,
/// revokeRolesFromRole, rolesInfo. A role belongs to the database the command runs on. Every
/// change bumps the server's user generation, so open connections re-read what their users may do.
enum RoleCommands {
    static let all: [Command] = [
        Command(name: "createRole", help: "adds a user-defined role", run: createRole),
        Command(name: "updateRole", help: "replaces a role's privileges or inherited roles", run: updateRole),
        Command(name: "dropRole", help: "removes a role from the database, its users and roles", run: dropRole),
        Command(name: "dropAllRolesFromDatabase", help: "removes every user-defined role of the database", run: dropAll),
        Command(name: "grantPrivilegesToRole", help: "adds privileges to a role", run: grantPrivileges),
        Command(name: "revokePrivilegesFromRole", help: "removes privileges from a role", run: revokePrivileges),
        Command(name: "grantRolesToRole", help: "adds inherited roles to a role", run: grantRoles),
        Command(name: "revokeRolesFromRole", help: "removes inherited roles from a role", run: revokeRoles),
        Command(name: "rolesInfo", help: "describes roles", run: rolesInfo),
    ]

    static func createRole(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try roleName(request)
        let privileges = try required("privileges", request)
        let roles = try required("roles", request)
        try store(context).create(name, privileges: privileges, roles: roles)
        context.server.usersChanged()
        return [:]
    }

    static func updateRole(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try roleName(request)
        defer { context.server.usersChanged() }
        try store(context).update(
            name, privileges: request.body.commandArray("privileges", in: request.name),
            roles: request.body.commandArray("roles", in: request.name))
        return [:]
    }

    static func dropRole(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let name = try roleName(request)
        defer { context.server.usersChanged() }
        try store(context).drop(name)
        return [:]
    }

    static func dropAll(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        defer { context.server.usersChanged() }
        let n = try store(context).dropAll(db: request.databaseName)
        return ["n": .int32(Int32(clamping: n))]
    }

    static func grantPrivileges(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try changePrivileges(request, context, grant: true)
    }

    static func revokePrivileges(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try changePrivileges(request, context, grant: false)
    }

    static func grantRoles(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try changeRoles(request, context, grant: true)
    }

    static func revokeRoles(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try changeRoles(request, context, grant: false)
    }

    /// `rolesInfo: name | {role, db} | [names] | 1`, with `showPrivileges` and `showBuiltinRoles`.
    static func rolesInfo(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let db = request.databaseName
        let showPrivileges = try request.body.commandBool("showPrivileges", in: request.name) ?? false
        let showBuiltinRoles = try request.body.commandBool("showBuiltinRoles", in: request.name) ?? false
        let names: [RoleName]?
        switch request.argument {
        case .string, .document:
            names = try RoleName.parse([request.argument], db: db)
        case .array(let values):
            names = try RoleName.parse(values, db: db)
        case .int32(1), .int64(1), .double(1):
            names = nil
        default:
            throw OsmanthusError(.badValue, "rolesInfo takes a role name, {role, db}, an array of them, or 1")
        }
        let roles = try store(context).info(
            names, db: db, showPrivileges: showPrivileges, showBuiltinRoles: showBuiltinRoles)
        return ["roles": .array(roles.map { .document($0) })]
    }

    private static func changePrivileges(_ request: CommandRequest, _ context: CommandContext, grant: Bool) throws
        -> Document
    {
        let name = try roleName(request)
        let privileges = try required("privileges", request)
        defer { context.server.usersChanged() }
        try store(context).changePrivileges(of: name, privileges, grant: grant)
        return [:]
    }

    private static func changeRoles(_ request: CommandRequest, _ context: CommandContext, grant: Bool) throws -> Document {
        let name = try roleName(request)
        let roles = try required("roles", request)
        defer { context.server.usersChanged() }
        try store(context).changeRoles(of: name, roles, grant: grant)
        return [:]
    }

    private static func store(_ context: CommandContext) -> RoleStore { RoleStore(database: context.server.database) }

    private static func roleName(_ request: CommandRequest) throws -> RoleName {
        guard case .string(let role) = request.argument else {
            throw OsmanthusError(.typeMismatch, "\(request.name) takes a role name string")
        }
        return RoleName(role: role, db: request.databaseName)
    }

    private static func required(_ field: String, _ request: CommandRequest) throws -> [BSONValue] {
        guard let values = try request.body.commandArray(field, in: request.name) else {
            throw OsmanthusError(.failedToParse, "BSON field '\(request.name).\(field)' is missing but a required field")
        }
        return values
    }
}
