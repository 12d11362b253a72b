import NIOCore
import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// `hello` and its legacy names: the server presents itself as the writable primary of a
/// one-node replica set, so drivers use sessions, retryable writes and the streaming
/// (awaitable) monitor protocol (SPEC.md §13).
enum HandshakeCommands {
    static let helloNames: Set<String> = ["hello", "isMaster", "ismaster"]

    static let all: [Command] = [
        Command(name: "hello", aliases: ["isMaster", "ismaster"], help: "the server's role and limits", run: hello)
    ]

    /// An election id that sorts after any a real member would have had: this server never
    /// steps down, so drivers never see it as stale.
    static let electionID: BSONValue = .objectId(ObjectId(hex: "7fffffff0000000000000001") ?? ObjectId())

    static func hello(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let server = context.server
        let body = request.body
        if let wait = try body.commandInt("maxAwaitTimeMS", in: request.name), wait < 0 {
            throw OsmanthusError(.badValue, "maxAwaitTimeMS must be a non-negative integer")
        }
        if let version = try body.commandDocument("topologyVersion", in: request.name) {
            guard version["processId"]?.objectIdValue != nil, version["counter"]?.exactInt64 != nil else {
                throw OsmanthusError(.failedToParse, "topologyVersion needs an ObjectId processId and a counter")
            }
        }
        let me = BSONValue.string(server.advertisedAddress)
        var reply = Document()
        if try body.commandBool("helloOk", in: request.name) == true { reply.append("helloOk", true) }
        reply.append(request.name == "hello" ? "isWritablePrimary" : "ismaster", true)
        reply.append(
            "topologyVersion", ["processId": .objectId(server.processID), "counter": .int64(server.topologyCounter)])
        reply.append("hosts", [me])
        reply.append("setName", .string(server.configuration.replicaSetName))
        reply.append("setVersion", 1)
        reply.append("secondary", false)
        reply.append("primary", me)
        reply.append("me", me)
        reply.append("electionId", electionID)
        reply.append("maxBsonObjectSize", .int32(Int32(WireFormat.maxBsonObjectSize)))
        reply.append("maxMessageSizeBytes", .int32(Int32(WireFormat.maxMessageSizeBytes)))
        reply.append("maxWriteBatchSize", .int32(Int32(WireFormat.maxWriteBatchSize)))
        reply.append("localTime", .datetime(WallClock.nowMilliseconds()))
        reply.append("logicalSessionTimeoutMinutes", 30)
        reply.append("connectionId", .int64(context.connection.id))
        reply.append("minWireVersion", .int32(WireFormat.minWireVersion))
        reply.append("maxWireVersion", .int32(WireFormat.maxWireVersion))
        reply.append("readOnly", false)
        if let offered = try body.commandArray("compression", in: request.name) {
            let names = Set(offered.compactMap(\.stringValue))
            let agreed = Compressor.supported.filter { $0 != .noop && names.contains($0.name) }
            reply.append("compression", .array(agreed.map { .string($0.name) }))
        }
        if case .document(let speculative)? = body["speculativeAuthenticate"], speculative["saslStart"] != nil,
            let started = try? AuthCommands.start(speculative, database: speculative["db"]?.stringValue ?? "admin", context)
        {
            // The first SCRAM step rides on the handshake (one round trip fewer); on failure
            // the field is left out and the driver authenticates the long way.
            reply.append("speculativeAuthenticate", .document(started))
        }
        if case .string(let name)? = body["saslSupportedMechs"], let dot = name.firstIndex(of: ".") {
            // "db.user" → the mechanisms that user has credentials for.
            let record = try? UserStore(database: context.server.database).record(
                user: String(name[name.index(after: dot)...]), db: String(name[..<dot]))
            var mechanisms: [BSONValue] = []
            if case .document(let credentials)? = record?["credentials"] {
                mechanisms = credentials.keys.map { .string($0) }
            }
            reply.append("saslSupportedMechs", .array(mechanisms))
        } else if body.contains("saslSupportedMechs") {
            reply.append("saslSupportedMechs", [])
        }
        return reply
    }

    /// How long to hold an awaitable hello: `maxAwaitTimeMS` when the client's
    /// `topologyVersion` is this process's and current (nothing new to tell it), else nil
    /// (answer at once). The wait runs on the event loop as a scheduled task.
    static func awaitTime(for request: CommandRequest, server: ServerCore) -> TimeAmount? {
        // topologyVersion first: absent from every other command, and cheaper than hashing the name.
        guard let version = request.fields.topologyVersion?.documentValue,
            let wait = request.fields.maxAwaitTimeMS?.exactInt64, wait >= 0,
            helloNames.contains(request.name),
            version["processId"]?.objectIdValue == server.processID,
            version["counter"]?.exactInt64 == server.topologyCounter
        else { return nil }
        return .milliseconds(min(wait, 24 * 3600 * 1000))
    }
}
