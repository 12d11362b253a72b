import ArgumentParser
import OsmanthusStorage

/// `osmanthus compact --data-dir D`: flushes and compacts everything into the bottom level.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Compact a database fully.")

    @Option(help: "Data directory of the database.")
    var dataDir: String

    func run() throws {
        try Admin.run {
            let db = try Admin.open(dataDir, readOnly: false)
            let before = db.levelSizes.reduce(0, +)
            try db.compactRange()
            let after = db.levelSizes.reduce(0, +)
            let files = db.levelFileCounts.reduce(0, +)
            try db.close()
            print("compacted: \(before) -> \(after) table bytes in \(files) files")
        }
    }
}
