import Osmanthus
import OsmanthusBSON

/// One command the server answers: its name (the first key of the command document), its
/// aliases, and the function that runs it on a command thread. `run` returns the reply
/// (a document without `ok`: the dispatcher adds `ok: 1`) or throws an error that
/// `ErrorMapping` turns into `{ok: 0, errmsg, code, codeName}`.
///
/// A class: every request takes its command from the dispatcher's table and hands it down
/// (views may swap it); as a struct each hand-off copied two strings, an array and a closure
/// (about ten reference-count operations per request), as a class it is one.
final class Command: Sendable {
    let name: String
    let aliases: [String]
    /// Only valid on the `admin` database (MongoDB answers Unauthorized elsewhere).
    let adminOnly: Bool
    let help: String
    let run: @Sendable (CommandRequest, CommandContext) throws -> CommandReply
    /// `commitTransaction` or `abortTransaction` (decided once here: `SessionGate` asks for
    /// every command, and two string comparisons per request cost more than a stored flag).
    let endsTransaction: Bool

    /// A command that answers with a document.
    convenience init(
        name: String, aliases: [String] = [], adminOnly: Bool = false, help: String,
        run: @escaping @Sendable (CommandRequest, CommandContext) throws -> Document
    ) {
        self.init(name: name, aliases: aliases, adminOnly: adminOnly, help: help, reply: { .document(try run($0, $1)) })
    }

    /// A command that may answer with one of `CommandReply`'s fixed shapes.
    init(
        name: String, aliases: [String] = [], adminOnly: Bool = false, help: String,
        reply: @escaping @Sendable (CommandRequest, CommandContext) throws -> CommandReply
    ) {
        self.name = name
        self.aliases = aliases
        self.adminOnly = adminOnly
        self.help = help
        self.run = reply
        endsTransaction = name == "commitTransaction" || name == "abortTransaction"
    }
}

/// A decoded command: the body of an OP_MSG (sequences merged) or an OP_QUERY on `<db>.$cmd`.
struct CommandRequest: Sendable {
    /// The command's name exactly as sent (the first key).
    let name: String
    /// The whole command document. Driver fields (`lsid`, `$clusterTime`, `txnNumber`,
    /// `$readPreference`, `readConcern`, `writeConcern`, `apiVersion`, ...) are left in it and
    /// ignored by commands that do not support them.
    let body: Document
    /// The fields the request path reads, found in one walk over `body` (read these, not
    /// `body[...]`, for the fields listed there).
    let fields: CommandFields
    /// `$db` (OP_MSG) or the database part of the OP_QUERY namespace.
    let databaseName: String

    /// The value of the first field (`{find: "c"}` → "c").
    var argument: BSONValue { fields.argument }

    init(body: Document, databaseName: String) throws {
        try self.init(body: body, fields: CommandFields(body), databaseName: databaseName)
    }

    /// `fields` must be `CommandFields(body)` (the caller walked the body already).
    init(body: Document, fields: CommandFields, databaseName: String) throws {
        guard let name = fields.name else {
            throw OsmanthusError(.failedToParse, "empty command document")
        }
        self.name = name
        self.body = body
        self.fields = fields
        self.databaseName = databaseName
    }

    /// The first field as a collection name (`{find: "c"}`): a non-empty string.
    func collectionName() throws -> String {
        guard case .string(let name) = argument else {
            throw OsmanthusError(
                .invalidNamespace, "collection name has invalid type \(argument.type.name)")
        }
        guard !name.isEmpty, !name.utf8.contains(0) else {
            throw OsmanthusError(.invalidNamespace, "Invalid namespace specified '\(databaseName).\(name)'")
        }
        return name
    }

    /// "db.collection" for cursor replies and error messages.
    func namespace(_ collection: String) -> String { "\(databaseName).\(collection)" }
}

/// Who is asking: the connection a command arrived on, the server it runs in, and the open
/// transaction when the command is a statement of one (set by `SessionGate`, which holds the
/// session's mutex meanwhile; hence not Sendable).
struct CommandContext {
    var server: ServerCore
    var connection: ConnectionInfo
    var transaction: Transaction?
    /// This command's entry in the operation table: long loops check it for `killOp`.
    var operation: RunningOperation?
    /// The connection's recent collections, for a command run inline (see `InlinePolicy`).
    var collections: CollectionCache?
    /// Set for a find run inline: `InlinePolicy` found its filter a point read on the cached
    /// collection (find need not check again).
    var isInlinePointRead = false
    /// The connection's last session, for a command run inline (see `SessionCache`).
    var sessionCache: SessionCache?
    /// Whether the command may answer `CommandReply.parked` (the connection runs it on the
    /// pool and answers a parked getMore when its wait ends).
    var canPark = false

    init(server: ServerCore, connection: ConnectionInfo) {
        self.server = server
        self.connection = connection
    }

    /// The collection so named: the connection's cached one when it has it.
    func collection(_ name: String, in database: String) -> Collection {
        collections?.cached(name, in: database) ?? server.database.collection(name, in: database)
    }
}

/// What the server knows about one client connection.
struct ConnectionInfo: Sendable {
    /// The `connectionId` in `hello`; increasing from 1.
    var id: Int64
    /// "host:port" of the client (`whatsmyuri`).
    var remoteAddress: String
    /// Who the connection has authenticated as.
    var auth = ConnectionAuth()
}
