import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Osmanthus
import OsmanthusWire
import Synchronization

/// The MongoDB-compatible server (SPEC.md §13): listens, frames messages with `MessageFramer`,
/// runs commands on a thread pool and answers in kind.
///
/// ```swift
/// let database = try Database.open(at: path)
/// let server = Server(database: database, configuration: configuration, logger: logger)
/// let address = try server.start()
/// ...
/// try server.shutdown()
/// try database.close()
/// ```
public final class Server: Sendable {
    let core: ServerCore
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let registry: ConnectionRegistry
    /// The listening channel and the idle-cursor and idle-session sweepers, set by `start`,
    /// cleared by `shutdown`.
    private let running = Mutex<(listener: (any Channel)?, sweepers: [RepeatedTask])>((nil, []))
    private let http = Mutex<(any Channel)?>(nil)
    /// The text `/metrics` serves (the metrics backend's exposition).
    private let metricsText: @Sendable () -> [UInt8]

    /// A server over `database`, which the caller opened and closes after `shutdown`.
    /// `metricsText` renders `/metrics` when `configuration.httpPort` is set.
    public init(
        database: Database, configuration: ServerConfiguration, logger: Logger = Logger(label: "osmanthus.server"),
        metricsText: @escaping @Sendable () -> [UInt8] = { Array("# no metrics backend\n".utf8) }
    ) {
        self.metricsText = metricsText
        self.core = ServerCore(database: database, configuration: configuration, logger: logger)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.commandThreads)
        self.registry = ConnectionRegistry(limit: configuration.maxConnections)
    }

    /// Binds and starts accepting connections; returns the bound address (with the real port
    /// when the configuration asked for port 0).
    @discardableResult
    public func start() throws -> SocketAddress {
        let core = self.core
        let tls = try Self.tlsContext(core.configuration)
        try core.views.loadAll()
        threadPool.start()
        let threadPool = self.threadPool
        let registry = self.registry
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.addHandler(ConnectionHandler(server: core, threadPool: threadPool, registry: registry))
                }
            }
        let configuration = core.configuration
        let listener = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
        guard let address = listener.localAddress else {
            throw ChannelError.unknownLocalAddress
        }
        if configuration.advertise == nil {
            core.advertisedAddress = "\(configuration.host):\(address.port ?? configuration.port)"
        }
        // Sweep often enough that a cursor outlives its timeout by at most half of it.
        let sweepEvery = min(TimeAmount.seconds(5), .nanoseconds(max(configuration.cursorIdleTimeout.timeAmount.nanoseconds / 2, 1_000_000)))
        // Both sweeps run on the thread pool, never an event loop: closing a cursor may close
        // engine iterators, and the session sweep may wait for a session's running command.
        let sweeper = group.next().scheduleRepeatedTask(initialDelay: sweepEvery, delay: sweepEvery) { _ in
            threadPool.submit { state in
                guard case .active = state else { return }
                let closed = core.cursors.closeIdle()
                if closed > 0 { core.logger.info("closed \(closed) idle cursors") }
            }
        }
        let sessionSweeper = group.next().scheduleRepeatedTask(
            initialDelay: core.sessions.sweepInterval, delay: core.sessions.sweepInterval
        ) { _ in
            threadPool.submit { state in
                guard case .active = state else { return }
                let forgotten = core.sessions.sweep()
                if forgotten > 0 { core.logger.info("forgot \(forgotten) idle sessions") }
            }
        }
        running.withLock { $0 = (listener, [sweeper, sessionSweeper]) }
        core.backups?.start()
        if let httpPort = configuration.httpPort {
            let channel = try startHTTP(port: httpPort)
            http.withLock { $0 = channel }
            core.logger.info("HTTP (metrics, health) on \(channel.localAddress.map { "\($0)" } ?? "?")")
        }
        core.ready.store(true, ordering: .releasing)
        core.logger.info("listening on \(address), advertised as \(core.advertisedAddress)")
        return address
    }

    /// The TLS context when the configuration names a certificate and key (both or neither).
    private static func tlsContext(_ configuration: ServerConfiguration) throws -> NIOSSLContext? {
        switch (configuration.tlsCertificateFile, configuration.tlsKeyFile) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            return try NIOSSLContext(
                configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey)))
        default:
            throw OsmanthusError(.badValue, "TLS needs both a certificate file and a key file")
        }
    }

    private func startHTTP(port: Int) throws -> any Channel {
        let core = self.core
        let metricsText = self.metricsText
        let routes = HTTPEndpoint.Routes(
            metrics: {
                core.metrics.refresh(
                    cursors: core.cursors.count, sessions: core.sessions.count, engine: core.database.engine.statistics)
                return metricsText()
            },
            ready: { core.ready.load(ordering: .acquiring) })
        return try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTPEndpoint(routes: routes))
                }
            }
            .bind(host: core.configuration.host, port: port).wait()
    }

    /// The HTTP operations port's address, when there is one.
    public var httpAddress: SocketAddress? {
        http.withLock { $0?.localAddress }
    }

    /// Creates the first user (`osmanthus serve` with OSMANTHUS_ROOT_USER/PASSWORD) unless the
    /// database has users already; returns whether it did.
    @discardableResult
    public func createFirstUser(name: String, password: String) throws -> Bool {
        let store = UserStore(database: core.database)
        guard try store.isEmpty else { return false }
        try store.create(user: name, db: "admin", password: password, roles: ["root"])
        return true
    }

    /// The address `start` bound, or nil.
    public var localAddress: SocketAddress? {
        running.withLock { $0.listener?.localAddress }
    }

    /// Stops listening, closes every connection, waits for running commands, then stops the
    /// threads. The caller closes the database afterwards.
    public func shutdown() throws {
        core.ready.store(false, ordering: .releasing)
        let httpChannel = http.withLock { state in
            defer { state = nil }
            return state
        }
        try? httpChannel?.close().wait()
        let (listener, sweepers) = running.withLock { state in
            defer { state = (nil, []) }
            return state
        }
        for sweeper in sweepers { sweeper.cancel() }
        try? listener?.close().wait()
        for channel in registry.all {
            try? channel.close().wait()
        }
        try threadPool.syncShutdownGracefully()
        try group.syncShutdownGracefully()
        // After the command threads: an `osmanthusBackup` in progress has ended.
        core.backups?.stop()
        core.logger.info("server stopped")
    }
}
