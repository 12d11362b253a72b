import ArgumentParser
import Dispatch
import Logging
import Metrics
import Osmanthus
import OsmanthusBackupS3
import OsmanthusServer
import OsmanthusStorage
import Prometheus

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `osmanthus serve`: the MongoDB-compatible server over a data directory. Prints
/// "listening on HOST:PORT" on stdout once it accepts connections; SIGINT or SIGTERM stop it
/// cleanly (listener closed, connections closed, database closed, exit 0).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the MongoDB-compatible server.")

    @Option(help: "A settings file: key = value lines (option names without dashes). Flags override it.")
    var config: String?

    @Option(help: "Data directory.")
    var dataDir: String = "./data"

    @Option(help: "Port to listen on (0: any free port; the chosen one is printed).")
    var port: Int = 27017

    @Option(help: "Address to bind.")
    var bind: String = "127.0.0.1"

    @Option(help: "host:port clients should use to reach this server (default: bind address and port).")
    var advertise: String?

    @Option(help: "HTTP port for /metrics (Prometheus), /healthz and /readyz on the bind address (0: none).")
    var httpPort: Int = 28017

    @Option(help: "Replica set name reported to drivers.")
    var replicaSet: String = "rs0"

    @Option(help: "Close cursors idle for this many milliseconds (MongoDB's cursorTimeoutMillis).")
    var cursorTimeoutMs: Int = 600_000

    @Flag(help: "Enable test-only commands (configureFailPoint), as driver test suites need. Never in production.")
    var enableTestCommands = false

    @Flag(help: "Run every command on the command thread pool, none on the event loop (SPEC §13.6).")
    var noInlineCommands = false

    @Option(help: "Event-loop threads for the sockets (default: one per core, at most 4; SPEC §13.6).")
    var eventLoopThreads: Int?

    @Option(help: "Seconds between passes of the TTL index monitor (MongoDB's ttlMonitorSleepSecs).")
    var ttlMonitorSeconds: Double = 60

    @Option(help: "Backup repository to archive the change log into continuously (for backup restore --at).")
    var archiveRepo: String?

    @Option(help: "Seconds between change-log archive passes with --archive-repo: the recovery point objective.")
    var archiveInterval: Double = 5

    @Option(help: "PEM certificate chain: with --tls-key-file, the wire port speaks TLS only.")
    var tlsCertFile: String?

    @Option(help: "PEM private key of --tls-cert-file.")
    var tlsKeyFile: String?

    @Flag(help: "Require authentication (SCRAM-SHA-256/SHA-1) even on loopback.")
    var auth = false

    @Flag(help: "Do not require authentication even when binding beyond loopback.")
    var noAuth = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Backup repository (default: <data-dir>-backups next to the data directory).")
    var backupDir: String?

    @Option(
        help: ArgumentHelp(
            "When to back up: an interval (30m, 1h, 1d, 1h30m), a cron expression ('cron:0 3 * * *', @daily), or off.",
            valueName: "schedule"))
    var backupInterval: String = "1h"

    @Option(help: "Backups to keep: the newest N.")
    var backupKeepLast: Int = RetentionPolicy.standard.last
    @Option(help: "Backups to keep: the newest of each of the last N hours.")
    var backupKeepHourly: Int = RetentionPolicy.standard.hourly
    @Option(help: "Backups to keep: the newest of each of the last N days.")
    var backupKeepDaily: Int = RetentionPolicy.standard.daily
    @Option(help: "Backups to keep: the newest of each of the last N weeks.")
    var backupKeepWeekly: Int = RetentionPolicy.standard.weekly
    @Option(help: "Backups to keep: the newest of each of the last N months.")
    var backupKeepMonthly: Int = RetentionPolicy.standard.monthly
    @Option(help: "MiB/s a scheduled backup may read and copy, so writes keep the machine (0: unpaced).")
    var backupRateLimit: Int = Int(BackupConfiguration.defaultRateLimit >> 20)
    @Flag(help: "Copy tables into the backup repository even on the data's file system (default: hard links there).")
    var backupCopyFiles = false

    @Option(help: "Also push each backup to this S3 bucket (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).")
    var backupS3Bucket: String?
    @Option(help: "S3-compatible endpoint for --backup-s3-bucket, http://host:port (default: $AWS_ENDPOINT_URL).")
    var backupS3Endpoint: String?
    @Option(help: "Key prefix in --backup-s3-bucket (the repository's root there).")
    var backupS3Prefix: String = ""
    @Option(help: "Region for --backup-s3-bucket (default: $AWS_REGION, else us-east-1).")
    var backupS3Region: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port must be 0...65535") }
        guard (tlsCertFile == nil) == (tlsKeyFile == nil) else {
            throw ValidationError("--tls-cert-file and --tls-key-file go together")
        }
        guard !(auth && noAuth) else { throw ValidationError("--auth and --no-auth exclude each other") }
        if let eventLoopThreads, !(1...64).contains(eventLoopThreads) {
            throw ValidationError("--event-loop-threads must be 1...64")
        }
        guard cursorTimeoutMs > 0 else { throw ValidationError("--cursor-timeout-ms must be positive") }
        guard archiveInterval > 0 else { throw ValidationError("--archive-interval must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        do {
            _ = try BackupSchedule(parsing: backupInterval)
        } catch let e as StorageError {
            throw ValidationError("--backup-interval: \(e.message)")
        }
        guard backupRateLimit >= 0 else { throw ValidationError("--backup-rate-limit must be 0 or more") }
        guard backupKeepLast >= 1 else { throw ValidationError("--backup-keep-last must be at least 1") }
        for (name, n) in [
            ("hourly", backupKeepHourly), ("daily", backupKeepDaily), ("weekly", backupKeepWeekly),
            ("monthly", backupKeepMonthly),
        ] where n < 0 {
            throw ValidationError("--backup-keep-\(name) must be 0 or more")
        }
        if backupS3Bucket == nil && (backupS3Endpoint != nil || !backupS3Prefix.isEmpty || backupS3Region != nil) {
            throw ValidationError("--backup-s3-endpoint, --backup-s3-prefix and --backup-s3-region need --backup-s3-bucket")
        }
        _ = try backupS3Repository()
        if let advertise {
            guard let colon = advertise.lastIndex(of: ":"), Int(advertise[advertise.index(after: colon)...]) != nil else {
                throw ValidationError("--advertise must be host:port")
            }
        }
    }

    /// The bucket scheduled backups are pushed to (SPEC.md §14.8), from the flags and the usual
    /// AWS environment variables; nil without --backup-s3-bucket.
    func backupS3Repository() throws -> S3Repository? {
        guard let bucket = backupS3Bucket else { return nil }
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        guard !bucket.isEmpty, !bucket.contains("/") else { throw ValidationError("--backup-s3-bucket must be a bucket name") }
        guard let endpoint = backupS3Endpoint ?? env("AWS_ENDPOINT_URL") else {
            throw ValidationError("--backup-s3-bucket needs --backup-s3-endpoint or AWS_ENDPOINT_URL")
        }
        guard let access = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") else {
            throw ValidationError("--backup-s3-bucket needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        do {
            let client = try S3Client(
                endpoint: endpoint, bucket: bucket, region: backupS3Region ?? env("AWS_REGION") ?? "us-east-1",
                credentials: .init(accessKey: access, secretKey: secret))
            return S3Repository(client: client, prefix: backupS3Prefix)
        } catch let e as StorageError {
            throw ValidationError("--backup-s3-endpoint: \(e.message)")
        }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "osmanthus.server")
        // Before any instrument exists: instruments made earlier stay unconnected.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var configuration = ServerConfiguration()
        configuration.host = bind
        configuration.port = port
        configuration.advertise = advertise
        configuration.replicaSetName = replicaSet
        configuration.cursorIdleTimeout = .milliseconds(Int64(cursorTimeoutMs))
        configuration.dataDirectory = dataDir
        configuration.commandLine = CommandLine.arguments
        configuration.enableTestCommands = enableTestCommands
        configuration.inlineCommands = !noInlineCommands
        if let eventLoopThreads { configuration.eventLoopThreads = eventLoopThreads }
        // Backups stay configured when the schedule is off, so `osmanthusBackup` still works.
        configuration.backup = BackupConfiguration(
            repository: backupDir ?? BackupConfiguration.defaultRepository(forDataDirectory: dataDir),
            schedule: try BackupSchedule(parsing: backupInterval),
            retention: RetentionPolicy(
                last: backupKeepLast, hourly: backupKeepHourly, daily: backupKeepDaily, weekly: backupKeepWeekly,
                monthly: backupKeepMonthly))
        configuration.backup?.rateLimit = backupRateLimit == 0 ? nil : UInt64(backupRateLimit) << 20
        configuration.backup?.linkFiles = !backupCopyFiles
        configuration.backup?.remote = try backupS3Repository()
        configuration.httpPort = httpPort == 0 ? nil : httpPort
        configuration.tlsCertificateFile = tlsCertFile
        configuration.tlsKeyFile = tlsKeyFile
        // Off on loopback, on beyond it, unless a flag says otherwise (SPEC §13.3).
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(bind) || bind.hasPrefix("127.")
        configuration.authenticationRequired = auth || (!loopback && !noAuth)

        // Signals are handled on a dispatch queue; the main thread waits for one.
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }

        var databaseOptions = DatabaseOptions()
        databaseOptions.ttlMonitorInterval = ttlMonitorSeconds
        let database = try Database.open(at: dataDir, options: databaseOptions)
        var archiver: ChangeLogArchiver?
        if let archiveRepo {
            do {
                archiver = try ChangeLogArchiver(database: database, repository: archiveRepo)
            } catch {
                try? database.close()
                throw error
            }
            archiver?.start(interval: .milliseconds(Int64(archiveInterval * 1000))) { error in
                logger.error("change-log archive pass failed (retrying; unarchived records are kept): \(error)")
            }
            logger.info("archiving the change log into \(archiveRepo) every \(archiveInterval) s")
        }
        let server = Server(
            database: database, configuration: configuration, logger: logger, metricsText: { registry.emitToBuffer() })
        let boundPort: Int
        do {
            if let user = Self.environment("OSMANTHUS_ROOT_USER"), let password = Self.environment("OSMANTHUS_ROOT_PASSWORD"),
                !user.isEmpty
            {
                if try server.createFirstUser(name: user, password: password) {
                    logger.info("created user \(user) on admin from OSMANTHUS_ROOT_USER")
                }
            } else if configuration.authenticationRequired {
                logger.warning("authentication is required; create users with OSMANTHUS_ROOT_USER/OSMANTHUS_ROOT_PASSWORD")
            }
            boundPort = try server.start().port ?? port
        } catch {
            try? server.shutdown()
            try? archiver?.stop()
            try? database.close()
            throw error
        }
        if let http = server.httpAddress {
            print("http on \(bind):\(http.port ?? httpPort)")
        }
        print("listening on \(bind):\(boundPort)")
        fflush(nil)  // all streams: tests wait for this line on a pipe

        stop.wait()
        logger.info("shutting down")
        for source in sources { source.cancel() }
        try server.shutdown()
        do {
            try archiver?.stop()  // the last commits into the archive before the database closes
        } catch {
            logger.error("change-log archive: \(error)")
        }
        try database.close()
        logger.info("stopped")
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
