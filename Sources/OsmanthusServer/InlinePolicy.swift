import Osmanthus
import OsmanthusBSON

/// Which commands run on the connection's event loop instead of the command thread pool
/// (SPEC.md §13.6). The hand-off to a pool thread and back is two thread wake-ups, most of the
/// time of a small request; a command may skip it only if it cannot block for long: no fsync,
/// no lock another command holds while doing I/O, no wait, at most one primary-key read.
enum InlinePolicy {
    static func runsInline(_ command: CommandRequest, server: ServerCore, collections: inout CollectionCache) -> Bool {
        guard server.configuration.inlineCommands else { return false }
        // find first: a switch tries its string cases in order, and finds are most requests.
        switch command.name {
        case "find":
            return isPointRead(command, server: server, collections: &collections)
        case "ping", "buildInfo", "buildinfo", "whatsmyuri", "getParameter":
            return true
        case "hello", "isMaster", "ismaster":
            // These two read the user store.
            return command.fields.speculativeAuthenticate == nil && command.fields.saslSupportedMechs == nil
        default:
            return false
        }
    }

    /// A find of one document by `_id`, outside any transaction (a transaction statement takes
    /// its session's lock, which another connection's command may hold for long).
    static func isPointRead(_ command: CommandRequest, server: ServerCore, collections: inout CollectionCache) -> Bool {
        let fields = command.fields
        guard fields.autocommit == nil, fields.txnNumber == nil, fields.startTransaction == nil,
            fields.tailable == nil, fields.sort == nil,
            case .string(let name) = fields.argument,
            case .document(let filter)? = fields.filter
        else { return false }
        return collections.collection(name, in: command.databaseName, of: server.database).isPointRead(filter)
    }
}
