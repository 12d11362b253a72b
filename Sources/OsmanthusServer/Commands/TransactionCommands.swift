import Osmanthus
import OsmanthusBSON

/// commitTransaction and abortTransaction. `SessionGate` answers both (they act on the
/// session's transaction); they are registered so the command table and listCommands know
/// them, and so a call without `autocommit: false` gets SessionGate's error.
enum TransactionCommands {
    static let all: [Command] = [
        Command(name: "commitTransaction", adminOnly: true, help: "commits the session's transaction", run: outside),
        Command(name: "abortTransaction", adminOnly: true, help: "aborts the session's transaction", run: outside),
    ]

    private static func outside(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        throw OsmanthusError(.invalidOptions, "\(request.name) must be run within a transaction (lsid, txnNumber, autocommit: false)")
    }
}
