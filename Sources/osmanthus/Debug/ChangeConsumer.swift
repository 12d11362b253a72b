import ArgumentParser
import Glibc
import Osmanthus
import OsmanthusBSON

/// `osmanthus debug change-consumer`: opens a database written by `doc-crash-writer`, resumes
/// the change stream of `crash.docs` from the token in `--token-file` (from the start of the log
/// when there is none), prints `op <n>` for each event (n: the op that wrote it, its `rev`),
/// then saves the new token (write, fsync, rename). The change-stream crash test runs it after
/// each killed writer and checks that the ops arrive exactly once, in order.
struct ChangeConsumer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-consumer",
        abstract: "Read the crash workload's change stream from a saved token (for crash tests).",
        shouldDisplay: false
    )

    @Option(help: "Database directory.")
    var dir: String

    @Option(help: "File holding the resume token (BSON); replaced after reading.")
    var tokenFile: String

    func run() throws {
        let db = try Database.open(at: dir, options: DocumentCrashWorkload.options())
        var options = ChangeStreamOptions()
        if let saved = Self.read(tokenFile) {
            options.resumeAfter = try Document(bytes: saved)
        } else {
            options.startAtOperationTime = .timestamp(increment: 0, seconds: 0)
        }
        var reader = try db.changeStreamReader(
            .collection(database: DocumentCrashWorkload.database, name: DocumentCrashWorkload.collection),
            options: options)
        while true {
            let events = try reader.poll(limit: 100)
            if events.isEmpty { break }
            for event in events {
                let rev = event.fullDocument?["rev"] ?? event.updateDescription?["updatedFields"]?.documentValue?["rev"]
                guard case .int64(let n)? = rev else { throw ExitCode(4) }
                print("op \(n)")
            }
        }
        try Self.replace(tokenFile, with: reader.postBatchResumeToken.bytes)
        try db.close()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    static func replace(_ path: String, with bytes: [UInt8]) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ExitCode(5) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0, close(fd) == 0, rename(tmp, path) == 0 else { throw ExitCode(5) }
    }
}
