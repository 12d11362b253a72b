import ArgumentParser
import Glibc
import Osmanthus

/// `osmanthus debug doc-crash-writer`: opens a `Database` with synced writes, applies
/// `DocumentCrashWorkload` ops start, start+1, … and prints `ack <n>` after each returns, until
/// killed (or `--count` ops). The document crash test kills it with SIGKILL and checks that
/// every acknowledged insert and update is there.
struct DocumentCrashWriter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doc-crash-writer",
        abstract: "Insert and update documents with synced writes, acknowledging each (for crash tests).",
        shouldDisplay: false
    )

    @Option(help: "Database directory.")
    var dir: String

    @Option(help: "Number of the first op to apply.")
    var start: Int = 0

    @Option(help: "Seed of the payloads and update targets.")
    var seed: UInt64 = 1

    @Option(help: "Stop after this many ops (default: run until killed).")
    var count: Int?

    func run() throws {
        let db = try Database.open(at: dir, options: DocumentCrashWorkload.options())
        let docs = db.collection(DocumentCrashWorkload.collection, in: DocumentCrashWorkload.database)
        var n = start
        while count.map({ n < start + $0 }) ?? true {
            try DocumentCrashWorkload.apply(n, seed: seed, to: docs)
            // One unbuffered write per line, shorter than PIPE_BUF: whole or not at all.
            let line = Array("ack \(n)\n".utf8)
            let written = line.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            guard written == line.count else { throw ExitCode(3) }
            n += 1
        }
        try db.close()
    }
}
