import ArgumentParser
import OsmanthusStorage

/// `osmanthus compact --data-dir D`: flushes and compacts everything into the bottom level.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Compact a database fully.")

    @Option(help: "Data directory of the database.")
    var dataDir: String?

    @OptionGroup var online: ServerOption

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Encodable {
        let beforeBytes: UInt64
        let afterBytes: UInt64
        let files: Int
    }

    func run() throws {
        try Admin.run {
            if try online.endpoint() != nil {
                let reply = try online.run(["osmanthusCompact": 1])
                let o = Output(
                    beforeBytes: UInt64(reply["beforeBytes"]?.exactInt64 ?? 0),
                    afterBytes: UInt64(reply["afterBytes"]?.exactInt64 ?? 0), files: Int(reply["files"]?.exactInt64 ?? 0))
                if json { return try Admin.printJSON(o) }
                return print("compacted: \(o.beforeBytes) -> \(o.afterBytes) table bytes in \(o.files) files")
            }
            let db = try Admin.open(try Admin.dataDir(dataDir), readOnly: false)
            let before = db.levelSizes.reduce(0, +)
            try db.compactRange()
            let after = db.levelSizes.reduce(0, +)
            let files = db.levelFileCounts.reduce(0, +)
            try db.close()
            if json { return try Admin.printJSON(Output(beforeBytes: before, afterBytes: after, files: files)) }
            print("compacted: \(before) -> \(after) table bytes in \(files) files")
        }
    }
}
