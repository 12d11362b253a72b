import ArgumentParser
import Glibc
import OsmanthusBackupS3
import OsmanthusStorage

/// `osmanthus backup s3 push|list|verify|restore|prune --s3 s3://bucket/prefix` (SPEC.md §14.8).
struct BackupS3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3", abstract: "Backups in S3-compatible storage (pushed from a local repository).",
        subcommands: [S3Push.self, S3List.self, S3Verify.self, S3Restore.self, S3Prune.self])
}

/// Where the bucket is and how to sign: flags, else AWS_* environment variables.
struct S3Options: ParsableArguments {
    @Option(help: "s3://bucket/prefix")
    var s3: String

    @Option(help: "S3 endpoint, http://host:port (default: $AWS_ENDPOINT_URL).")
    var endpoint: String?

    @Option(help: "Region (default: $AWS_REGION, else us-east-1).")
    var region: String?

    func repository() throws -> S3Repository {
        guard s3.hasPrefix("s3://") else { throw ValidationError("--s3 must look like s3://bucket/prefix") }
        let rest = s3.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw ValidationError("--s3 names no bucket") }
        let prefix = String(rest.dropFirst(bucket.count))
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        guard let endpoint = endpoint ?? env("AWS_ENDPOINT_URL") else {
            throw ValidationError("give --endpoint or set AWS_ENDPOINT_URL")
        }
        guard let access = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") else {
            throw ValidationError("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let client = try S3Client(
            endpoint: endpoint, bucket: bucket, region: region ?? env("AWS_REGION") ?? "us-east-1",
            credentials: .init(accessKey: access, secretKey: secret))
        return S3Repository(client: client, prefix: prefix)
    }
}

struct S3Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Upload backups of a local repository (default: every one missing remotely).")
    @OptionGroup var s3: S3Options
    @Option(help: "Local backup repository.") var repo: String
    @Argument(help: "Backup ids (default: all not yet pushed).") var ids: [String] = []
    @Flag(help: "Create the bucket if it does not exist.") var createBucket = false
    @Flag(help: "Print the result as JSON.") var json = false

    struct Output: Encodable {
        let pushed: [String]
        let uploadedObjects: Int
        let skippedObjects: Int
    }

    func run() throws {
        try Admin.run {
            let remote = try s3.repository()
            if createBucket { try remote.client.createBucket() }
            let local = BackupRepository(path: repo)
            let present = Set(try remote.list().map(\.id))
            let wanted = ids.isEmpty ? try local.list().map(\.id).filter { !present.contains($0) } : ids
            var uploaded = 0
            var skipped = 0
            for id in wanted {
                let r = try remote.push(id, from: local)
                uploaded += r.uploaded
                skipped += r.skipped
            }
            if json { return try Admin.printJSON(Output(pushed: wanted, uploadedObjects: uploaded, skippedObjects: skipped)) }
            print("pushed \(wanted.count) backups: \(uploaded) objects uploaded, \(skipped) tables already stored")
        }
    }
}

struct S3List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the backups in the bucket.")
    @OptionGroup var s3: S3Options
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try Admin.run {
            let backups = try s3.repository().list()
            if json { return try Admin.printJSON(backups.map(BackupJSON.init)) }
            print("id      sequence  files  bytes  created (unix seconds)")
            for b in backups { print("\(b.id)  \(b.sequence)  \(b.fileCount)  \(b.totalBytes)  \(b.createdAt)") }
        }
    }
}

struct S3Verify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Download and check every object of a backup.")
    @OptionGroup var s3: S3Options
    @Argument(help: "Backup id.") var id: String

    func run() throws {
        try Admin.run {
            let report = try s3.repository().verify(id)
            if report.isIntact {
                print("backup \(report.id): ok (\(report.checkedFiles) files, \(report.checkedBytes) bytes)")
            } else {
                for d in report.damage { print("backup \(report.id): \(d.name) (\(d.path)): \(d.problem)") }
                throw ExitCode(1)
            }
        }
    }
}

struct S3Restore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a backup from the bucket.")
    @OptionGroup var s3: S3Options
    @Argument(help: "Backup id.") var id: String
    @Option(help: "Directory to restore into (must be empty or missing).") var to: String

    func run() throws {
        try Admin.run {
            let info = try s3.repository().restore(id, to: to)
            print("restored backup \(info.id) (sequence \(info.sequence)) to \(to)")
        }
    }
}

struct S3Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete old backups, partial ones and unreferenced objects in the bucket.")
    @OptionGroup var s3: S3Options
    @Option(help: "Number of newest backups to keep.") var keepLast: Int

    func run() throws {
        try Admin.run {
            let r = try s3.repository().prune { Set($0.suffix(keepLast).map(\.id)) }
            print("removed \(r.removedBackups.count) backups, \(r.removedFiles) files, \(r.removedPartials) partial backups")
        }
    }
}
