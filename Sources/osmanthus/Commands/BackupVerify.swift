import ArgumentParser
import OsmanthusBSON
import Osmanthus
import OsmanthusStorage

/// `osmanthus backup verify --repo R ID [--json]`: re-reads every file; exit 1 when any is
/// missing or damaged, naming each. Also checks the archived change-log segments (every
/// segment's checksum, and gaps between segments).
struct BackupVerify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Check every file of a backup.")

    @OptionGroup var repository: RepositoryOption

    @Argument(help: "Backup id (with --server: default the newest).")
    var id: String?

    @OptionGroup var online: ServerOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Encodable {
        struct Damage: Encodable {
            let name: String
            let path: String
            let problem: String
            let detail: String
        }
        let id: String
        let intact: Bool
        let checkedFiles: Int
        let checkedBytes: UInt64
        let damage: [Damage]
        let changeLogSegments: Int
        let changeLogProblems: [Damage]
    }

    func run() throws {
        try Admin.run {
            if try online.endpoint() != nil {
                var command: Document = ["osmanthusBackup": 1, "action": "verify"]
                if let id { command.append("id", .string(id)) }
                let reply = try online.run(command)
                let damage = reply["damage"]?.arrayValue ?? []
                if json {
                    print(ServerOption.json(reply))
                } else if damage.isEmpty {
                    print(
                        "backup \(reply["id"]?.stringValue ?? "?"): ok (\(reply["checkedFiles"]?.exactInt64 ?? 0) files, "
                            + "\(reply["checkedBytes"]?.exactInt64 ?? 0) bytes)")
                } else {
                    for case .document(let d) in damage {
                        print(
                            "backup \(reply["id"]?.stringValue ?? "?"): \(d["name"]?.stringValue ?? "?") "
                                + "(\(d["path"]?.stringValue ?? "?")): \(d["problem"]?.stringValue ?? "?")")
                    }
                }
                if !damage.isEmpty { throw ExitCode(1) }
                return
            }
            guard let id else { throw ValidationError("give the backup id to verify") }
            let repo = BackupRepository(path: try repository.path())
            let bar = ProgressBar("verify \(id)", total: try repo.list().first { $0.id == id }?.totalBytes ?? 0)
            let report = try repo.verify(id) { bar.update($0) }
            bar.finish()
            let segments = try ChangeLogArchive(repository: try repository.path()).verify()
            if json {
                try Admin.printJSON(
                    Output(
                        id: report.id, intact: report.isIntact, checkedFiles: report.checkedFiles,
                        checkedBytes: report.checkedBytes,
                        damage: report.damage.map {
                            .init(
                                name: $0.name, path: $0.path, problem: $0.problem.kind, detail: $0.problem.description)
                        },
                        changeLogSegments: segments.segments,
                        changeLogProblems: segments.problems.map {
                            .init(name: $0.name, path: $0.path, problem: "changeLog", detail: $0.detail)
                        }))
            } else if report.isIntact {
                print("backup \(report.id): ok (\(report.checkedFiles) files, \(report.checkedBytes) bytes)")
            } else {
                for d in report.damage { print("backup \(report.id): \(d.name) (\(d.path)): \(d.problem)") }
            }
            if !json {
                for p in segments.problems { print("change log: \(p)") }
                if segments.segments > 0 && segments.problems.isEmpty {
                    print("change log: ok (\(segments.segments) segments)")
                }
            }
            if !report.isIntact || !segments.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
