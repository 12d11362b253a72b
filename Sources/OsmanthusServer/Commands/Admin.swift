import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// Diagnostics and session bookkeeping: the commands drivers, shells and GUIs send besides
/// CRUD. Most report fixed facts; sessions only matter for the cursors they own.
enum AdminCommands {
    /// The MongoDB version Osmanthus presents itself as (drivers gate features on it).
    static let compatibleVersion = "7.0.0"
    static let versionArray: [BSONValue] = [7, 0, 0, 0]

    static let all: [Command] = [
        Command(name: "ping", help: "answers ok") { _, _ in [:] },
        Command(name: "buildInfo", aliases: ["buildinfo"], help: "version and build facts", run: buildInfo),
        Command(name: "hostInfo", help: "the machine the server runs on", run: hostInfo),
        Command(name: "whatsmyuri", help: "the client's address as the server sees it") { _, context in
            ["you": .string(context.connection.remoteAddress)]
        },
        Command(name: "getParameter", adminOnly: true, help: "server parameters", run: getParameter),
        Command(name: "getCmdLineOpts", adminOnly: true, help: "the command line", run: getCmdLineOpts),
        Command(name: "serverStatus", help: "uptime, connections and operation counters", run: serverStatus),
        Command(name: "connectionStatus", help: "the connection's users and roles", run: AuthCommands.connectionStatus),
        Command(name: "listCommands", help: "the commands this server answers", run: listCommands),
        Command(name: "startSession", help: "a new logical session id") { _, _ in
            let random = (0..<16).map { _ in UInt8.random(in: 0...255) }
            var bytes = random
            bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
            bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
            return ["id": ["id": .binary(BSONBinary(uuidBytes: bytes))], "timeoutMinutes": 30]
        },
        Command(name: "refreshSessions", help: "keeps sessions alive") { request, context in
            guard case .array(let sessions) = request.argument else {
                throw OsmanthusError(.typeMismatch, "refreshSessions takes an array of session ids")
            }
            for lsid in sessions { _ = try context.server.sessions.session(for: lsid) }
            return [:]
        },
        Command(name: "endSessions", help: "ends sessions: aborts their transactions, closes their cursors", run: endSessions),
        Command(name: "killSessions", help: "ends sessions: aborts their transactions, closes their cursors", run: endSessions),
        Command(name: "killAllSessions", help: "ends every session") { _, context in
            context.server.sessions.end(nil)
            return [:]
        },
        Command(name: "replSetGetStatus", adminOnly: true, help: "the one-node replica set", run: replSetGetStatus),
        Command(name: "getLog", adminOnly: true, help: "recent log lines (not kept)") { request, _ in
            if request.argument == "*" { return ["names": ["global", "startupWarnings"]] }
            return ["totalLinesWritten": 0, "log": []]
        },
        Command(name: "logout", help: "forgets the connection's authentication") { _, context in
            context.connection.auth.logout()
            return [:]
        },
        Command(name: "configureFailPoint", adminOnly: true, help: "test only: sets the failCommand fail point") {
            request, context in
            guard context.server.configuration.enableTestCommands else {
                throw OsmanthusError(.commandNotFound, "no such command: 'configureFailPoint' (start with --enable-test-commands)")
            }
            try context.server.failPoints.configure(request.body)
            return [:]
        },
    ]

    static func buildInfo(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        [
            "version": .string(compatibleVersion),
            "gitVersion": .string("osmanthus-\(OsmanthusServerInfo.version)"),
            "versionArray": .array(versionArray),
            "osmanthusVersion": .string(OsmanthusServerInfo.version),
            "modules": [],
            "allocator": "system",
            "javascriptEngine": "none",
            "sysInfo": "deprecated",
            "bits": 64,
            "debug": false,
            "maxBsonObjectSize": .int32(Int32(WireFormat.maxBsonObjectSize)),
            "storageEngines": ["osmanthus"],
            "openssl": ["running": "disabled"],
            "buildEnvironment": ["target_arch": .string(HostInfo.system.machine)],
        ]
    }

    static func hostInfo(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let system = HostInfo.system
        return [
            "system": [
                "currentTime": .datetime(WallClock.nowMilliseconds()),
                "hostname": .string(HostInfo.hostname),
                "cpuAddrSize": 64,
                "memSizeMB": .int64(Int64(HostInfo.memoryMegabytes)),
                "memLimitMB": .int64(Int64(HostInfo.memoryMegabytes)),
                "numCores": .int32(Int32(HostInfo.coreCount)),
                "cpuArch": .string(system.machine),
                "numaEnabled": false,
            ],
            "os": ["type": .string(system.name), "name": .string(system.name), "version": .string(system.release)],
            "extra": [:],
        ]
    }

    /// The parameters `getParameter` knows, by name.
    static func parameters(_ server: ServerCore) -> Document {
        [
            "featureCompatibilityVersion": ["version": "7.0"],
            "authenticationMechanisms": [],
            "cursorTimeoutMillis": .int64(server.configuration.cursorIdleTimeout.timeAmount.nanoseconds / 1_000_000),
            "logLevel": 0,
            "requireApiVersion": false,
            "transactionLifetimeLimitSeconds": 60,
            "maxBSONObjectSize": .int32(Int32(WireFormat.maxBsonObjectSize)),
        ]
    }

    static func getParameter(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let known = parameters(context.server)
        if request.argument == "*" || request.argument.documentValue?["allParameters"]?.boolValue == true {
            return known
        }
        var reply = Document()
        for (key, value) in known where request.body.contains(key) {
            reply.append(key, value)
        }
        guard !reply.isEmpty else { throw OsmanthusError(.invalidOptions, "no option found to get") }
        return reply
    }

    static func getCmdLineOpts(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let configuration = context.server.configuration
        return [
            "argv": .array(configuration.commandLine.map { .string($0) }),
            "parsed": [
                "net": ["bindIp": .string(configuration.host), "port": .int32(Int32(clamping: configuration.port))],
                "storage": ["dbPath": .string(configuration.dataDirectory)],
                "replication": ["replSet": .string(configuration.replicaSetName)],
            ],
        ]
    }

    static func serverStatus(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let server = context.server
        let uptime = server.uptimeMilliseconds
        let current = server.statistics.currentConnections.load(ordering: .relaxed)
        return [
            "host": .string(server.advertisedAddress),
            "version": .string(compatibleVersion),
            "process": "osmanthus",
            "pid": .int64(HostInfo.processID),
            "uptime": .double(Double(uptime) / 1000),
            "uptimeMillis": .int64(uptime),
            "uptimeEstimate": .int64(uptime / 1000),
            "localTime": .datetime(WallClock.nowMilliseconds()),
            "connections": [
                "current": .int32(Int32(clamping: current)),
                "available": .int32(Int32(clamping: Int64(server.configuration.maxConnections) - current)),
                "totalCreated": .int64(server.statistics.totalConnections.load(ordering: .relaxed)),
            ],
            "opcounters": .document(server.statistics.opcounters),
            "transactions": .document(server.statistics.transactions),
            "logicalSessionRecordCache": ["activeSessionsCount": .int64(Int64(server.sessions.count))],
            "metrics": ["cursor": ["open": ["total": .int64(Int64(server.cursors.count))]]],
            "storageEngine": ["name": "osmanthus", "supportsCommittedReads": false, "persistent": true],
            "mem": ["bits": 64],
        ]
    }

    static func listCommands(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        var commands = Document()
        for command in context.server.dispatcher.commands.sorted(by: { $0.name < $1.name }) {
            commands.append(command.name, ["help": .string(command.help), "adminOnly": .bool(command.adminOnly)])
        }
        return ["commands": .document(commands)]
    }

    static func endSessions(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard case .array(let sessions) = request.argument else {
            throw OsmanthusError(.typeMismatch, "\(request.name) takes an array of session ids")
        }
        context.server.sessions.end(sessions)
        return [:]
    }

    static func replSetGetStatus(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        let server = context.server
        let member: Document = [
            "_id": 0,
            "name": .string(server.advertisedAddress),
            "health": 1.0,
            "state": 1,
            "stateStr": "PRIMARY",
            "uptime": .int64(server.uptimeMilliseconds / 1000),
            "self": true,
        ]
        return [
            "set": .string(server.configuration.replicaSetName),
            "date": .datetime(WallClock.nowMilliseconds()),
            "myState": 1,
            "term": .int64(1),
            "members": [.document(member)],
        ]
    }
}

/// The server's own version (not the MongoDB version it presents).
public enum OsmanthusServerInfo {
    public static let version = "0.1.0"
}
