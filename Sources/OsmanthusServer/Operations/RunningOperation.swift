import NIOCore
import Osmanthus
import OsmanthusBSON
import Synchronization

/// One command in progress: what `currentOp` lists and `killOp` stops. A killed operation
/// fails with Interrupted (11601) at its next check — between documents of a batch, every few
/// hundred documents of a scan, between waits of a change-stream getMore — never in the
/// middle of a write.
final class RunningOperation: Sendable {
    static let interrupted = OsmanthusError.Code(11601, "Interrupted")

    /// currentOp's `opid`.
    let id: Int64
    let connectionID: Int64
    /// "host:port" of the client.
    let client: String
    let command: Document
    /// "db.collection", or "db.$cmd" for a command not about one collection.
    let namespace: String
    let started = NIODeadline.now()
    private let killed = Atomic<Bool>(false)

    init(id: Int64, connectionID: Int64, client: String, request: CommandRequest) {
        self.id = id
        self.connectionID = connectionID
        self.client = client
        self.command = request.body
        // getMore names its collection in `collection`, other commands in their first field.
        let named = request.name == "getMore" ? request.fields.collection ?? .null : request.argument
        if case .string(let collection) = named, !collection.isEmpty {
            namespace = "\(request.databaseName).\(collection)"
        } else {
            namespace = "\(request.databaseName).$cmd"
        }
    }

    var isKilled: Bool { killed.load(ordering: .relaxed) }

    func kill() { killed.store(true, ordering: .relaxed) }

    /// Throws Interrupted once `kill` has been called.
    func checkForInterrupt() throws {
        if isKilled { throw OsmanthusError(Self.interrupted, "operation was interrupted") }
    }

    /// currentOp's `op`: the legacy operation kind MongoDB reports.
    var kind: String {
        switch command.firstField?.key {
        case "find": "query"
        case "getMore": "getmore"
        case "insert": "insert"
        case "update": "update"
        case "delete": "remove"
        default: "command"
        }
    }

    /// The `inprog` entry.
    func document(now: NIODeadline, host: String) -> Document {
        let micros = max(0, (now - started).nanoseconds / 1000)
        var entry = Document()
        entry.append("type", "op")
        entry.append("host", .string(host))
        entry.append("desc", .string("conn\(connectionID)"))
        entry.append("connectionId", .int64(connectionID))
        entry.append("client", .string(client))
        entry.append("active", true)
        entry.append("opid", Int32(exactly: id).map { BSONValue.int32($0) } ?? .int64(id))
        entry.append("killPending", .bool(isKilled))
        entry.append("secs_running", .int64(micros / 1_000_000))
        entry.append("microsecs_running", .int64(micros))
        entry.append("op", .string(kind))
        entry.append("ns", .string(namespace))
        entry.append("command", .document(command))
        return entry
    }
}
