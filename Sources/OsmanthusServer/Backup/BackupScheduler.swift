import Dispatch
import Logging
import Metrics
import Osmanthus
import OsmanthusBackupS3
import OsmanthusStorage
import Synchronization

/// Takes the server's backups (SPEC.md §14.5): on schedule on its own thread (a dedicated
/// dispatch queue, never an event loop), or on demand (`runNow`, from the `osmanthusBackup`
/// command on a command thread). Each run: back up, verify, prune by the retention policy,
/// push to the remote repository when one is configured (then verify the push and prune the
/// remote too), log, update metrics. A failure (repository unwritable, disk full, damaged copy,
/// S3 unreachable) is logged and counted; the live database is only read (through a pin of its
/// files) and the next tick tries again (a push missed then is made up by the next one).
public final class BackupScheduler: Sendable {
    /// What the last runs did, for `osmanthusBackup {action: "status"}`.
    public struct Status: Sendable {
        public var lastAttemptAt: Int64?
        public var lastSuccessAt: Int64?
        public var lastBackup: BackupInfo?
        public var lastError: String?
        public var successes = 0
        public var failures = 0
        /// When the next scheduled backup is due (nil: not scheduled).
        public var nextDueAt: Int64?
    }

    /// One successful run.
    public struct Outcome: Sendable {
        public let backup: BackupInfo
        public let verify: VerifyReport?
        public let prune: PruneReport?
        /// Backups pushed to the remote repository by this run (oldest first), and what
        /// pruning it removed.
        public var pushed: [String] = []
        public var remotePrune: PruneReport?
        public let durationNanoseconds: UInt64
    }

    public let configuration: BackupConfiguration
    public let repository: BackupRepository
    private let database: Database
    private let logger: Logger
    private let metrics: BackupMetrics
    /// Seconds since 1970; injectable so tests can drive the schedule.
    private let clock: @Sendable () -> Int64
    private let status = Mutex(Status())
    /// Serialises runs: the scheduled one and any `runNow` wait for each other.
    private let runLock = Mutex(())
    private let stopping = Atomic(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic(false)

    public init(
        database: Database, configuration: BackupConfiguration, logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        clock: (@Sendable () -> Int64)? = nil
    ) {
        self.database = database
        self.configuration = configuration
        self.repository = BackupRepository(
            path: configuration.repository, rateLimit: configuration.rateLimit, linkFiles: configuration.linkFiles)
        self.logger = logger
        self.metrics = BackupMetrics(factory: metricsFactory)
        self.clock = clock ?? { WallClock.nowMilliseconds() / 1000 }
    }

    public var currentStatus: Status { status.withLock { $0 } }

    /// Starts the schedule's thread (nothing when the schedule is `off`).
    public func start() {
        guard configuration.schedule != .off, !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let remote = configuration.remote.map { ", pushed to \($0.url)" } ?? ""
        logger.info(
            "backups \(configuration.schedule) to \(configuration.repository)\(remote), keeping \(configuration.retention.description)")
        DispatchQueue(label: "osmanthus.backup-scheduler").async { [self] in
            loop()
            finished.signal()
        }
    }

    /// Stops the schedule, waiting for a backup in progress to end (the caller closes the
    /// database afterwards).
    public func stop() {
        stopping.store(true, ordering: .releasing)
        guard started.load(ordering: .acquiring) else { return }
        wake.signal()
        finished.wait()
    }

    private func loop() {
        var last = clock()
        while !stopping.load(ordering: .acquiring) {
            guard let due = configuration.schedule.next(after: last) else {
                logger.warning("backup schedule \(configuration.schedule) never fires; scheduled backups stop")
                return
            }
            status.withLock { $0.nextDueAt = due }
            // Sleep until due, waking early only to stop; the clock is re-read after each wait
            // so a stepped wall clock cannot make the loop spin or oversleep by much.
            var now = clock()
            while now < due && !stopping.load(ordering: .acquiring) {
                let wait = min(due - now, 60)
                _ = wake.wait(timeout: .now() + .seconds(Int(wait)))
                now = clock()
            }
            if stopping.load(ordering: .acquiring) { break }
            _ = try? runNow()
            // After a long run or a stopped machine, skip the missed ticks instead of catching up.
            let after = clock()
            last = (configuration.schedule.next(after: due) ?? .max) <= after ? after : due
        }
    }

    /// Takes, verifies and prunes one backup now; throws what failed (already logged and counted).
    @discardableResult
    public func runNow() throws -> Outcome {
        try runLock.withLock { _ in try runLocked() }
    }

    private func runLocked() throws -> Outcome {
        let startedAt = ContinuousClock.now
        let attemptAt = clock()
        status.withLock { $0.lastAttemptAt = attemptAt }
        let backup: BackupInfo
        var verify: VerifyReport?
        do {
            backup = try repository.create(from: database.engine)
            if configuration.verifyAfterBackup {
                let report = try repository.verify(backup.id)
                verify = report
                if let d = report.damage.first {
                    throw StorageError.corruption(
                        "backup \(backup.id) failed verification: \(d.name) is \(d.problem)", file: d.path, offset: nil)
                }
            }
        } catch {
            metrics.failures.increment()
            let message = "\(error)"
            status.withLock {
                $0.failures += 1
                $0.lastError = message
            }
            logger.error("backup to \(configuration.repository) failed (retried at the next tick): \(message)")
            throw error
        }
        // Pruning failing does not undo a good backup; it is retried after the next one.
        var prune: PruneReport?
        do {
            prune = try repository.prune(policy: configuration.retention, now: clock())
        } catch {
            logger.warning("pruning \(configuration.repository) failed: \(error)")
        }
        var pushed: [String] = []
        var remotePrune: PruneReport?
        if let remote = configuration.remote {
            do {
                let r = try push(to: remote)
                pushed = r.pushed
                remotePrune = r.pruned
            } catch {
                metrics.failures.increment()
                let message = "pushing to \(remote.url) failed: \(error)"
                status.withLock {
                    $0.failures += 1
                    $0.lastError = message
                }
                logger.error("backup \(backup.id) taken but \(message) (retried at the next tick)")
                throw error
            }
        }
        let elapsed = ContinuousClock.now - startedAt
        let nanos = UInt64(max(0, elapsed.components.seconds)) * 1_000_000_000
            + UInt64(max(0, elapsed.components.attoseconds / 1_000_000_000))
        metrics.duration.recordNanoseconds(Int64(clamping: nanos))
        metrics.lastSuccess.record(Double(backup.createdAt))
        metrics.size.record(Double(backup.totalBytes))
        metrics.successes.increment()
        status.withLock {
            $0.successes += 1
            $0.lastSuccessAt = backup.createdAt
            $0.lastBackup = backup
            $0.lastError = nil
        }
        let summary =
            "backup \(backup.id) taken: sequence \(backup.sequence), \(backup.fileCount) files, \(backup.totalBytes) "
            + "bytes (\(backup.tablesSummary)), verified, \(Double(nanos) / 1e9)s; "
            + "pruned \(prune?.removedBackups.count ?? 0) backups, \(prune?.removedFiles ?? 0) files"
            + (configuration.remote.map {
                "; pushed \(pushed) to \($0.url), verified, pruned \(remotePrune?.removedBackups.count ?? 0) backups there"
            } ?? "")
        logger.info("\(summary)")
        return Outcome(
            backup: backup, verify: verify, prune: prune, pushed: pushed, remotePrune: remotePrune,
            durationNanoseconds: nanos)
    }

    /// Uploads every local backup the bucket lacks (the new one, and any an earlier failed push
    /// missed that retention still keeps), checks each (objects listed with their sizes, those
    /// just uploaded read back and their checksums compared), then prunes the bucket by the
    /// same retention policy. Damage found is an error naming the object.
    private func push(to remote: S3Repository) throws -> (pushed: [String], pruned: PruneReport) {
        let present = Set(try remote.list().map(\.id))
        let missing = try repository.list().map(\.id).filter { !present.contains($0) }
        for id in missing {
            let uploaded = try remote.push(id, from: repository)
            let report = try remote.verify(id, downloading: uploaded.keys)
            if let d = report.damage.first {
                throw StorageError.corruption(
                    "backup \(id) in \(remote.url) failed verification: \(d.name) is \(d.problem)", file: d.path, offset: nil)
            }
        }
        let pruned = try remote.prune { [configuration, clock] published in
            configuration.retention.select(published, now: clock())
        }
        return (missing, pruned)
    }
}
