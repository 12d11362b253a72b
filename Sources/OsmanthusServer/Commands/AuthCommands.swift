import Osmanthus
import OsmanthusBSON

/// SCRAM authentication (saslStart, saslContinue, logout) and `connectionStatus`; users are
/// managed by `UserCommands`. What an authenticated user may run is decided by its
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
        let generation = context.server.userGeneration
        let roles =
            (try? UserStore(database: context.server.database).authorizedRoles(user: conversation.user, db: db))
            ?? AuthorizedRoles()
        auth.grant(roles, to: "\(db).\(conversation.user)", generation: generation)
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

    /// `connectionStatus`: the users authenticated on this connection and their roles.
    static func connectionStatus(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let auth = context.connection.auth
        let authorized = auth.authorized
        let users: [BSONValue] = auth.users.map { name in
            let (db, user) = name.firstIndex(of: ".").map { (String(name[..<$0]), String(name[name.index(after: $0)...])) }
                ?? ("", name)
            return ["user": .string(user), "db": .string(db)]
        }
        var info: Document = [
            "authenticatedUsers": .array(users),
            "authenticatedUserRoles": .array(authorized.roles.map { .document($0.document) }),
        ]
        if try request.body.commandBool("showPrivileges", in: request.name) == true {
            // The user-defined roles' privileges; built-in roles' grants are SPEC.md §13.3's table.
            info.append("authenticatedUserPrivileges", .array(authorized.privileges.map { .document($0.document) }))
        }
        return ["authInfo": .document(info)]
    }
}
