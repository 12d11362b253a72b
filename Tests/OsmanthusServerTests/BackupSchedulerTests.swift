import FoundationEssentials
import Glibc
import Logging
import MetricsTestKit
import Osmanthus
import OsmanthusBSON
import OsmanthusBackupS3
import OsmanthusServer
import OsmanthusStorage
import Testing

struct BackupSchedulerTests {
    let logger = Logger(label: "test.backup")

    func withDatabase(_ body: (Database, ScratchDirectory) throws -> Void) throws {
        let scratch = ScratchDirectory()
        defer { scratch.remove() }
        let db = try Database.open(at: scratch.path + "/data")
        defer { try? db.close() }
        let c = db.collection("c", in: "app")
        for i in 0..<200 { _ = try c.insertOne(["_id": .int32(Int32(i)), "v": .string(String(repeating: "x", count: i))]) }
        try db.engine.compactRange()  // tables for the backup to copy
        try body(db, scratch)
    }

    @Test func runNowBacksUpVerifiesAndReportsMetrics() throws {
        try withDatabase { db, scratch in
            let metrics = TestMetrics()
            let repo = scratch.path + "/repo"
            let scheduler = BackupScheduler(
                database: db, configuration: BackupConfiguration(repository: repo, schedule: .off), logger: logger,
                metricsFactory: metrics)
            let outcome = try scheduler.runNow()
            #expect(outcome.verify?.isIntact == true)
            let listed = try BackupRepository(path: repo).list()
            #expect(listed.map(\.id) == [outcome.backup.id])
            #expect(outcome.backup.sequence == db.engine.latestSequence)
            #expect(try metrics.expectCounter("osmanthus_backups_total").totalValue == 1)
            #expect(try metrics.expectGauge("osmanthus_backup_last_success_timestamp_seconds").lastValue
                == Double(outcome.backup.createdAt))
            #expect(try metrics.expectGauge("osmanthus_backup_last_size_bytes").lastValue == Double(outcome.backup.totalBytes))
            #expect(try metrics.expectTimer("osmanthus_backup_duration_seconds").values.count == 1)
            #expect(metrics.counterTotal(label: "osmanthus_backup_failures_total") == 0)
            let status = scheduler.currentStatus
            #expect(status.successes == 1 && status.failures == 0 && status.lastBackup?.id == outcome.backup.id)
        }
    }

    @Test func failedBackupIsCountedLeavesTheDatabaseAloneAndIsRetried() throws {
        try withDatabase { db, scratch in
            let metrics = TestMetrics()
            // A regular file where the repository should be: every backup attempt fails.
            let repo = scratch.path + "/repo"
            #expect(FileManager.default.createFile(atPath: repo, contents: Data("not a dir".utf8)))
            let scheduler = BackupScheduler(
                database: db, configuration: BackupConfiguration(repository: repo, schedule: .off), logger: logger,
                metricsFactory: metrics)
            #expect(throws: (any Error).self) { try scheduler.runNow() }
            #expect(throws: (any Error).self) { try scheduler.runNow() }
            #expect(try metrics.expectCounter("osmanthus_backup_failures_total").totalValue == 2)
            #expect(scheduler.currentStatus.failures == 2)
            #expect(scheduler.currentStatus.lastError != nil)
            // The live database still reads and writes.
            let c = db.collection("c", in: "app")
            _ = try c.insertOne(["_id": 1000, "after": true])
            #expect(try c.count() == 201)
            // Fixed: the next attempt succeeds and clears the error.
            try FileManager.default.removeItem(atPath: repo)
            let outcome = try scheduler.runNow()
            #expect(outcome.verify?.isIntact == true)
            #expect(scheduler.currentStatus.lastError == nil)
            #expect(try metrics.expectCounter("osmanthus_backups_total").totalValue == 1)
        }
    }

    @Test func unreachableRemoteIsAFailureThatKeepsTheLocalBackup() throws {
        try withDatabase { db, scratch in
            let metrics = TestMetrics()
            let repo = scratch.path + "/repo"
            // Port 1 on loopback: nothing listens, every request is refused at once.
            let client = try S3Client(
                endpoint: "http://127.0.0.1:1", bucket: "b", region: "us-east-1",
                credentials: .init(accessKey: "k", secretKey: "s"))
            var configuration = BackupConfiguration(repository: repo, schedule: .off)
            configuration.remote = S3Repository(client: client, prefix: "p")
            let scheduler = BackupScheduler(
                database: db, configuration: configuration, logger: logger, metricsFactory: metrics)
            #expect(throws: (any Error).self) { try scheduler.runNow() }
            #expect(try metrics.expectCounter("osmanthus_backup_failures_total").totalValue == 1)
            #expect(metrics.counterTotal(label: "osmanthus_backups_total") == 0)
            let status = scheduler.currentStatus
            #expect(status.failures == 1 && status.successes == 0)
            #expect(status.lastError?.contains("s3://b/p") == true)
            // The backup itself was taken and verified locally: only the push is missing.
            let local = try BackupRepository(path: repo).list()
            #expect(local.count == 1)
            #expect(try BackupRepository(path: repo).verify(local[0].id).isIntact)
        }
    }

    @Test func scheduleRunsOnItsOwnAndRetentionPrunes() throws {
        try withDatabase { db, scratch in
            let repo = scratch.path + "/repo"
            let configuration = BackupConfiguration(
                repository: repo, schedule: try BackupSchedule(parsing: "1s"), retention: RetentionPolicy(last: 2))
            let scheduler = BackupScheduler(database: db, configuration: configuration, logger: logger, metricsFactory: TestMetrics())
            scheduler.start()
            // Writes keep going while scheduled backups run.
            let c = db.collection("c", in: "app")
            var i = 10_000
            let deadline = ContinuousClock.now + .seconds(60)
            while scheduler.currentStatus.successes < 4 && ContinuousClock.now < deadline {
                _ = try c.insertOne(["_id": .int64(Int64(i))])
                i += 1
                usleep(20_000)
            }
            scheduler.stop()
            let status = scheduler.currentStatus
            #expect(status.successes >= 4)
            #expect(status.failures == 0)
            let listed = try BackupRepository(path: repo).list()
            // Retention ran after each backup: only the newest two remain, the last one among them.
            #expect(listed.count == 2)
            #expect(listed.last?.id == status.lastBackup?.id)
            #expect(try BackupRepository(path: repo).verify(listed[0].id).isIntact)
        }
    }

    @Test func defaultRepositorySitsNextToTheDataDirectory() {
        #expect(BackupConfiguration.defaultRepository(forDataDirectory: "/var/lib/osm/data") == "/var/lib/osm/data-backups")
        #expect(BackupConfiguration.defaultRepository(forDataDirectory: "./data/") == "./data-backups")
        #expect(BackupConfiguration.defaultRepository(forDataDirectory: "data") == "data-backups")
    }
}
