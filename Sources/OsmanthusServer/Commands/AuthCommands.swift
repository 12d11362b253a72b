import Osmanthus
import OsmanthusBSON

/// SCRAM authentication (saslStart, saslContinue, logout) and user management (createUser,
/// dropUser, usersInfo), `connectionStatus`. What an authenticated user may run is decided by its
/// roles (`Authorization`).
enum AuthCommands {
    /// What an unauthenticated connection may run when authentication is required.
    static let allowedUnauthenticated: Set<String> = [
        "hello", "isMaster", "ismaster", "saslStart", "saslContinue", "ping", "buildInfo", "buildinfo", "logout",
        "endSessions",
    ]

    static let all: [Command] = [
        Command(name: "saslStart", help: "starts a SCRAM-SHA-256 or SCRAM-SHA-1 authentication", run: saslStart),
        Command(name: "saslContinue", help: "the next step of an authentication", run: saslContinue),
        Command(name: "createUser", help: "adds a user (SCRAM credentials)", run: createUser),
        Command(name: "dropUser", help: "removes a user", run: dropUser),
        Command(name: "usersInfo", help: "lists users", run: usersInfo),
    ]

    static func saslStart(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        try start(request.body, database: request.databaseName, context)
    }

    /// saslStart's work, also run for `hello`'s speculativeAuthenticate (whose `db` field names
    /// the database).
    static func start(_ body: Document, database db: String, _ context: CommandContext) throws -> Document {
        guard let name = try body.commandString("mechanism", in: "saslStart"),
            let mechanism = SCRAMMechanism(rawValue: name)
        else {
            throw OsmanthusError(
                mechanismUnavailable, "Received authentication for mechanism which is not enabled (SCRAM-SHA-256, SCRAM-SHA-1 are)")
        }
        let payload = try self.payload(body, in: "saslStart")
        let store = UserStore(database: context.server.database)
        var skip = false
        if case .document(let options)? = body["options"] {
            skip = try options.commandBool("skipEmptyExchange", in: "saslStart.options") ?? false
        }
        let (conversation, serverFirst) = try SCRAMConversation.start(mechanism, clientFirst: payload) { user in
            try store.credential(user: user, db: db, mechanism: mechanism)
        }
        context.connection.auth.begin(conversation, database: db, skipEmptyExchange: skip)
        return ["conversationId": 1, "done": false, "payload": .binary(BSONBinary(subtype: .generic, data: serverFirst))]
    }

    static func saslContinue(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let auth = context.connection.auth
        guard let (conversation, db, awaitingEmptyStep) = auth.current() else {
            throw OsmanthusError(.badValue, "No SASL session state found")
        }
        if awaitingEmptyStep {
            auth.endConversation()
            return ["conversationId": 1, "done": true, "payload": .binary(BSONBinary(subtype: .generic, data: []))]
        }
        let payload = try self.payload(request.body, in: "saslContinue")
        let serverFinal: [UInt8]
        do {
            serverFinal = try conversation.finish(clientFinal: payload)
        } catch {
            auth.endConversation()
            context.server.logger.info("authentication of \(conversation.user) failed")
            throw error
        }
        // With saslStart's skipEmptyExchange the exchange ends here; otherwise one empty step follows.
        let done = auth.proofAccepted()
        // The user's roles, kept for the connection's later commands (none if unreadable).
        let record = try? UserStore(database: context.server.database).record(user: conversation.user, db: db)
        let roles = (try? RoleGrant.parse(record?["roles"]?.arrayValue ?? [], db: db)) ?? []
        auth.grant(roles, to: "\(db).\(conversation.user)")
        return ["conversationId": 1, "done": .bool(done), "payload": .binary(BSONBinary(subtype: .generic, data: serverFinal))]
    }

    static let mechanismUnavailable = OsmanthusError.Code(334, "MechanismUnavailable")

    private static func payload(_ body: Document, in command: String) throws -> [UInt8] {
        switch body["payload"] {
        case .binary(let binary)?: return Array(binary.data)
        case .string(let text)?: return Array(text.utf8)
        default: throw OsmanthusError(.failedToParse, "BSON field '\(command).payload' is missing but a required field")
        }
    }

    static func createUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard case .string(let user) = request.argument else {
            throw OsmanthusError(.typeMismatch, "createUser takes a user name string")
        }
        guard let password = try request.body.commandString("pwd", in: "createUser") else {
            throw OsmanthusError(.badValue, "Must provide a 'pwd' field for SCRAM users")
        }
        var mechanisms = SCRAMMechanism.allCases
        if let names = try request.body.commandArray("mechanisms", in: "createUser") {
            mechanisms = try names.map { value in
                guard case .string(let name) = value, let mechanism = SCRAMMechanism(rawValue: name) else {
                    throw OsmanthusError(.badValue, "Unknown auth mechanism '\(value)'")
                }
                return mechanism
            }
        }
        let roles = try request.body.commandArray("roles", in: "createUser") ?? []
        try UserStore(database: context.server.database).create(
            user: user, db: request.databaseName, password: password, roles: roles, mechanisms: mechanisms)
        return [:]
    }

    static func dropUser(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard case .string(let user) = request.argument else {
            throw OsmanthusError(.typeMismatch, "dropUser takes a user name string")
        }
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

    /// `connectionStatus`: the users authenticated on this connection and their roles.
    static func connectionStatus(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let auth = context.connection.auth
        let users: [BSONValue] = auth.users.map { name in
            let (db, user) = name.firstIndex(of: ".").map { (String(name[..<$0]), String(name[name.index(after: $0)...])) }
                ?? ("", name)
            return ["user": .string(user), "db": .string(db)]
        }
        var info: Document = [
            "authenticatedUsers": .array(users),
            "authenticatedUserRoles": .array(auth.roleGrants.map { .document($0.document) }),
        ]
        if try request.body.commandBool("showPrivileges", in: request.name) == true {
            info.append("authenticatedUserPrivileges", [])
        }
        return ["authInfo": .document(info)]
    }
}
