import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// A decoded message as the connection sees it: the command to run (or why there is none)
/// and how to reply — OP_MSG for OP_MSG, OP_REPLY for the OP_QUERY handshake.
struct InboundRequest {
    enum Style {
        case msg
        case reply(flags: Int32)
    }

    enum Kind {
        case command(CommandRequest)
        /// An OP_QUERY that is not a `$cmd` handshake: answered with a QueryFailure document.
        case unsupportedQuery(Document)
        /// A message with no runnable command (missing `$db`, duplicate sequence field).
        case failed(any Error)
    }

    var requestID: Int32
    var style: Style
    var kind: Kind
    /// The client does not want a reply (OP_MSG moreToCome: unacknowledged writes).
    var moreToCome = false
    /// The reply is compressed the way the request was.
    var compressor: Compressor?

    /// MongoDB's code for OP_QUERY commands other than the handshake.
    static let unsupportedOpQueryCommand = OsmanthusError.Code(352, "UnsupportedOpQueryCommand")

    /// Throws only for messages a client must never send (OP_REPLY): the connection closes.
    init(_ message: WireMessage) throws {
        requestID = message.requestID
        compressor = message.compressor
        switch message.body {
        case .msg(let msg):
            style = .msg
            moreToCome = msg.flags.contains(.moreToCome)
            do {
                let body = try msg.command()
                let fields = CommandFields(body)
                guard case .string(let database) = fields.database ?? .null, !database.isEmpty else {
                    throw OsmanthusError(
                        OsmanthusError.Code(40571, "Location40571"), "OP_MSG requests require a $db argument")
                }
                kind = .command(try CommandRequest(body: body, fields: fields, databaseName: database))
            } catch {
                kind = .failed(error)
            }
        case .query(let query):
            style = .reply(flags: OpReply.awaitCapable)
            let command = query.command
            let name = command.firstField?.key ?? ""
            if query.fullCollectionName.hasSuffix(".$cmd"), HandshakeCommands.helloNames.contains(name) {
                kind = .command(try CommandRequest(body: command, databaseName: String(query.databaseName)))
            } else {
                style = .reply(flags: OpReply.queryFailure)
                let message = "Unsupported OP_QUERY command: \(name.isEmpty ? query.fullCollectionName : name). "
                    + "The client driver may require an upgrade."
                kind = .unsupportedQuery([
                    "$err": .string(message), "code": .int32(Self.unsupportedOpQueryCommand.value),
                    "ok": 0.0, "errmsg": .string(message),
                ])
            }
        case .reply:
            throw WireError(.unsupportedOpCode, "OP_REPLY from a client")
        }
    }
}
