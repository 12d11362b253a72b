import ArgumentParser
import OsmanthusBSON
import OsmanthusStorage

/// `osmanthus stats --data-dir D [--json]`: table sizes and counts per level and the last
/// sequence, from a read-only open.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show a database's levels and sequence.")

    @Option(help: "Data directory of the database.")
    var dataDir: String?

    @OptionGroup var online: ServerOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Encodable {
        struct Level: Encodable {
            let level: Int
            let files: Int
            let bytes: UInt64
        }
        let sequence: UInt64
        let levels: [Level]
        let totalFiles: Int
        let totalBytes: UInt64
    }

    func run() throws {
        try Admin.run {
            let output: Output
            if try online.endpoint() != nil {
                let reply = try online.run(["osmanthusStats": 1])
                func int(_ d: Document, _ k: String) -> Int64 { d[k]?.exactInt64 ?? 0 }
                var levels: [Output.Level] = []
                for case .document(let l) in reply["levels"]?.arrayValue ?? [] {
                    levels.append(.init(level: Int(int(l, "level")), files: Int(int(l, "files")), bytes: UInt64(int(l, "bytes"))))
                }
                output = Output(
                    sequence: UInt64(int(reply, "sequence")), levels: levels, totalFiles: Int(int(reply, "totalFiles")),
                    totalBytes: UInt64(int(reply, "totalBytes")))
            } else {
                let db = try Admin.open(try Admin.dataDir(dataDir), readOnly: true)
                defer { try? db.close() }
                let sizes = db.levelSizes
                let counts = db.levelFileCounts
                let levels = sizes.indices.map { Output.Level(level: $0, files: counts[$0], bytes: sizes[$0]) }
                output = Output(
                    sequence: db.latestSequence, levels: levels, totalFiles: counts.reduce(0, +),
                    totalBytes: sizes.reduce(0, +))
            }
            let levels = output.levels
            if json {
                try Admin.printJSON(output)
                return
            }
            print("sequence \(output.sequence)")
            print("level  files  bytes")
            for l in levels { print("L\(l.level)     \(l.files)      \(l.bytes)") }
            print("total  \(output.totalFiles)      \(output.totalBytes)")
        }
    }
}
