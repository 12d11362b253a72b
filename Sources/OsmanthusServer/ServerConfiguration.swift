import NIOCore  // System.coreCount

/// How `osmanthus serve` runs: where it listens, how it presents itself in `hello`, and the
/// limits it enforces.
public struct ServerConfiguration: Sendable {
    /// The address to bind.
    public var host: String = "127.0.0.1"
    /// The port to bind; 0 picks a free one (see `Server.localAddress`).
    public var port: Int = 27017
    /// "host:port" clients should use to reach this server (`hosts`, `primary`, `me` in
    /// `hello`). Default: the bound host and port.
    public var advertise: String?
    /// The replica set name reported in `hello` (drivers then treat the server as a one-node set).
    public var replicaSetName: String = "rs0"
    /// Short commands run on the event loop (SPEC.md §13.6); false sends every command to the
    /// thread pool (for comparison, or if an inline command ever proves slow).
    public var inlineCommands = true
    /// Threads running commands (engine calls block, so not on an event loop).
    public var commandThreads: Int = max(4, 2 * System.coreCount)
    /// Event-loop threads for the sockets.
    public var eventLoopThreads: Int = max(1, min(4, System.coreCount))
    /// A cursor unused for this long is closed (MongoDB's cursorTimeoutMillis default).
    public var cursorIdleTimeout: Duration = .seconds(600)
    /// The most cursors one connection may have open at once.
    public var maxCursorsPerConnection: Int = 1000
    /// The most concurrent connections; more are accepted and closed at once.
    public var maxConnections: Int = 10_000
    /// Reported by `getCmdLineOpts` and `serverStatus`.
    public var dataDirectory: String = ""
    public var commandLine: [String] = []
    /// The HTTP operations port (`/metrics`, `/healthz`, `/readyz`) on `host`; nil: none.
    /// 0 picks a free one (see `Server.httpAddress`).
    public var httpPort: Int?
    /// PEM files of the certificate chain and private key: with both, the wire port speaks
    /// only TLS.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    /// Commands other than the handshake and authentication need an authenticated connection
    /// (SCRAM users in `admin.system.users`).
    public var authenticationRequired = false
    /// Test-only commands (`configureFailPoint`) answer; otherwise they are CommandNotFound.
    public var enableTestCommands = false
    /// Automated backups (nil: none; `osmanthusBackup` then answers that backups are off).
    public var backup: BackupConfiguration?

    public init() {}
}

extension Duration {
    /// The same span as NIO's TimeAmount (nanoseconds, saturating).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return .nanoseconds(overflow ? Int64.max : nanos &+ attoseconds / 1_000_000_000)
    }
}
