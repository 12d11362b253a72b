import Osmanthus
import OsmanthusBSON

/// User management (SPEC.md §13.3): createUser, updateUser, grantRolesToUser,
/// revokeRolesFromUser, dropUser, usersInfo. Every change bumps the server's user generation, so
/// connections already authenticated re-read their users' roles before their next command.
enum UserCommands {
    static let all: [Command] = [
        Command(name: "createUser", help: "adds a user (SCRAM credentials)", run: createUser),
        Command(name: "updateUser", help: "changes a user's password, roles or mechanisms", run: updateUser),
        Command(name: "grantRolesToUser", help: "adds roles to a user", run: grantRolesToUser),
        Command(name: "revokeRolesFromUser", help: "removes roles from a user", run: revokeRolesFromUser),
        Command(name: "dropUser", help: "removes a user", run: dropUser),
        Command(name: "usersInfo", help: "lists users", run: usersInfo),
    ]

    static func createUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let user = try userName(request)
        guard let password = try request.body.commandString("pwd", in: "createUser") else {
            throw OsmanthusError(.badValue, "Must provide a 'pwd' field for SCRAM users")
        }
        let mechanisms = try self.mechanisms(request) ?? SCRAMMechanism.allCases
        let roles = try request.body.commandArray("roles", in: "createUser") ?? []
        try UserStore(database: context.server.database).create(
            user: user, db: request.databaseName, password: password, roles: roles, mechanisms: mechanisms)
        context.server.usersChanged()
        return [:]
    }

    static func updateUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let user = try userName(request)
        defer { context.server.usersChanged() }
        try UserStore(database: context.server.database).update(
            user: user, db: request.databaseName, password: request.body.commandString("pwd", in: "updateUser"),
            roles: request.body.commandArray("roles", in: "updateUser"), mechanisms: mechanisms(request))
        return [:]
    }

    static func grantRolesToUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try changeRoles(request, context, grant: true)
    }

    static func revokeRolesFromUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try changeRoles(request, context, grant: false)
    }

    static func dropUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let user = try userName(request)
        defer { context.server.usersChanged() }
        try UserStore(database: context.server.database).drop(user: user, db: request.databaseName)
        return [:]
    }

    static func usersInfo(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let store = UserStore(database: context.server.database)
        let show = try request.body.commandBool("showCredentials", in: "usersInfo") ?? false
        let users: [Document]
        switch request.argument {
        case .string(let name):
            users = try store.list(db: request.databaseName, names: [name], showCredentials: show)
        case .document(let spec):
            guard case .string(let name)? = spec["user"] else { throw OsmanthusError(.badValue, "usersInfo needs {user, db}") }
            let db = spec["db"]?.stringValue ?? request.databaseName
            users = try store.list(db: db, names: [name], showCredentials: show)
        case .array(let names):
            users = try store.list(db: request.databaseName, names: names.compactMap(\.stringValue), showCredentials: show)
        default:
            users = try store.list(db: request.databaseName, names: nil, showCredentials: show)
        }
        return ["users": .array(users.map { .document($0) })]
    }

    private static func changeRoles(_ request: CommandRequest, _ context: CommandContext, grant: Bool) throws -> Document {
        let user = try userName(request)
        guard let roles = try request.body.commandArray("roles", in: request.name) else {
            throw OsmanthusError(.failedToParse, "BSON field '\(request.name).roles' is missing but a required field")
        }
        defer { context.server.usersChanged() }
        try UserStore(database: context.server.database).changeRoles(
            user: user, db: request.databaseName, roles, grant: grant)
        return [:]
    }

    private static func userName(_ request: CommandRequest) throws -> String {
        guard case .string(let user) = request.argument else {
            throw OsmanthusError(.typeMismatch, "\(request.name) takes a user name string")
        }
        return user
    }

    /// The command's `mechanisms`, nil when absent.
    private static func mechanisms(_ request: CommandRequest) throws -> [SCRAMMechanism]? {
        try request.body.commandArray("mechanisms", in: request.name)?.map { value in
            guard case .string(let name) = value, let mechanism = SCRAMMechanism(rawValue: name) else {
                throw OsmanthusError(.badValue, "Unknown auth mechanism '\(value)'")
            }
            return mechanism
        }
    }
}
