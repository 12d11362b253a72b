import ArgumentParser
import Glibc
import OsmanthusStorage

/// `osmanthus debug crash-writer`: writes `CrashWorkload` batches start, start+1, … with
/// `sync: true` and prints `ack <n>` after each write returns, until killed (or `--count`
/// batches). The crash tests kill it with SIGKILL at random moments and check the database.
struct CrashWriter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash-writer",
        abstract: "Write synced test batches and acknowledge each on stdout (for crash tests).",
        shouldDisplay: false
    )

    @Option(help: "Database directory.")
    var dir: String

    @Option(help: "Number of the first batch to write.")
    var start: Int = 0

    @Option(help: "Seed of the values.")
    var seed: UInt64 = 1

    @Option(help: "Stop after this many batches (default: run until killed).")
    var count: Int?

    func run() throws {
        let db = try DB.open(at: dir, options: CrashWorkload.options())
        var n = start
        while count.map({ n < start + $0 }) ?? true {
            try db.write(CrashWorkload.batch(n, seed: seed), options: WriteOptions(sync: true))
            try acknowledge(n)
            n += 1
        }
        try db.close()
    }

    /// One unbuffered write per line: the parent must see every ack the moment the write is
    /// durable, and a line shorter than PIPE_BUF arrives whole or not at all.
    private func acknowledge(_ n: Int) throws {
        let line = Array("ack \(n)\n".utf8)
        let written = line.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
        guard written == line.count else { throw ExitCode(3) }
    }
}
