import Logging
import NIOCore
import Osmanthus
import OsmanthusBSON
import Synchronization

/// What every command can reach: the configuration, the identity reported in `hello`, the
/// cursors, the counters and the command table. Shared by all connections and command threads.
final class ServerCore: Sendable {
    /// The embedded database every command reads and writes.
    let database: Database
    let configuration: ServerConfiguration
    let logger: Logger
    /// `topologyVersion.processId`: new each time the server starts, so a client that saw an
    /// earlier process knows its view is stale.
    let processID = ObjectId()
    /// `topologyVersion.counter`: a one-node set whose role never changes stays at 0.
    let topologyCounter: Int64 = 0
    let startedAt = NIODeadline.now()
    let startedAtMilliseconds = WallClock.nowMilliseconds()
    let statistics = ServerStatistics()
    let metrics: ServerMetrics
    /// `/readyz`: set once the wire listener is bound, cleared when shutdown begins.
    let ready = Atomic<Bool>(false)
    let failPoints = FailPoints()
    let cursors: CursorManager
    let changeStreams = ChangeStreamCursors()
    /// The views of every database (`system.views`), loaded when the server starts.
    let views: ViewCatalog
    /// The commands running now (`currentOp`, `killOp`).
    let operations = OperationTable()
    let sessions: SessionTable
    let dispatcher: CommandDispatcher
    /// The automated backups, when configured.
    let backups: BackupScheduler?
    private let advertised: Mutex<String>
    private let lastConnectionID = Atomic<Int64>(0)
    /// Bumped whenever a user or its roles may have changed; connections compare it with the one
    /// they read their roles at (`ConnectionAuth.refresh`).
    private let userGenerationCounter = Atomic<UInt64>(0)

    init(database: Database, configuration: ServerConfiguration, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.cursors = CursorManager(
            idleTimeout: configuration.cursorIdleTimeout.timeAmount, maxPerConnection: configuration.maxCursorsPerConnection)
        self.sessions = SessionTable(cursors: cursors, changeStreams: changeStreams)
        self.dispatcher = CommandDispatcher.standard
        self.metrics = ServerMetrics(commandNames: dispatcher.names)
        self.views = ViewCatalog(database: database)
        self.backups = configuration.backup.map {
            BackupScheduler(database: database, configuration: $0, logger: logger)
        }
        self.advertised = Mutex(configuration.advertise ?? "\(configuration.host):\(configuration.port)")
    }

    /// "host:port" as reported in `hello` (`hosts`, `primary`, `me`).
    var advertisedAddress: String {
        get { advertised.withLock { $0 } }
        set { advertised.withLock { $0 = newValue } }
    }

    var userGeneration: UInt64 { userGenerationCounter.load(ordering: .acquiring) }

    func usersChanged() {
        userGenerationCounter.add(1, ordering: .releasing)
    }

    func nextConnectionID() -> Int64 {
        lastConnectionID.add(1, ordering: .relaxed).newValue
    }

    var uptimeMilliseconds: Int64 {
        (NIODeadline.now() - startedAt).nanoseconds / 1_000_000
    }
}
