import ArgumentParser
import FoundationEssentials
import Osmanthus
import OsmanthusBSON
import OsmanthusStorage

/// `osmanthus export --data-dir D --db X [--collection C] --out PATH [--canonical]`: MongoDB
/// Extended JSON, one document per line, as `mongoexport` writes it (SPEC.md §14.7). With a
/// collection, PATH is the file ("-": stdout) and the sidecar goes next to it; without, PATH is
/// a directory receiving `<collection>.jsonl` and `<collection>.indexes.json` for each one.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write collections as Extended JSON lines (mongoexport's format).")

    @Option(help: "Data directory of the database (opened read-only; a running server's is refused).")
    var dataDir: String

    @Option(help: "Database name.")
    var db: String

    @Option(help: "Collection to export (default: every collection of --db, one file each).")
    var collection: String?

    @Option(help: "Output file (with --collection; - for stdout) or directory.")
    var out: String

    @Flag(help: "Canonical Extended JSON (every type wrapped) instead of relaxed.")
    var canonical = false

    @Flag(help: "Print a summary as JSON.")
    var json = false

    struct Output: Encodable {
        struct Item: Encodable {
            let collection: String
            let file: String
            let documents: Int
            let bytes: UInt64
        }
        let collections: [Item]
    }

    func run() throws {
        try Admin.run {
            guard FileManager.default.fileExists(atPath: dataDir + "/CURRENT") else {
                throw AdminError("\(dataDir) is not a database directory (no CURRENT)")
            }
            var options = DatabaseOptions()
            options.storage.createIfMissing = false
            options.storage.readOnly = true
            let database = try Database.open(at: dataDir, options: options)
            defer { try? database.close() }
            let infos = try database.listCollections(in: db)
            var items: [Output.Item] = []
            if let collection {
                guard let info = infos.first(where: { $0.name == collection }) else {
                    throw AdminError("no collection \(db).\(collection) in \(dataDir)")
                }
                let sidecarDir = out == "-" ? "." : Admin.parent(of: out)
                items.append(try export(database, info, to: out, sidecar: sidecarDir + "/" + IndexSidecar.fileName(collection)))
            } else {
                guard !infos.isEmpty else { throw AdminError("no collections in database \(db) in \(dataDir)") }
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                for info in infos {
                    items.append(
                        try export(
                            database, info, to: out + "/" + info.name + ".jsonl",
                            sidecar: out + "/" + IndexSidecar.fileName(info.name)))
                }
            }
            if json {
                try Admin.printJSON(Output(collections: items))
            } else if out != "-" {
                for i in items { print("exported \(i.documents) documents of \(db).\(i.collection) to \(i.file)") }
            }
        }
    }

    private func export(_ database: Database, _ info: CollectionInfo, to path: String, sidecar: String) throws
        -> Output.Item
    {
        let mode: ExtendedJSONMode = canonical ? .canonical : .relaxed
        let writer = try BufferedWriter(path: path)
        let cursor = try database.collection(info.name, in: db).find()
        var count = 0
        while let doc = try cursor.next() {
            try writer.write(doc.toExtendedJSON(mode: mode))
            try writer.write("\n")
            count += 1
        }
        try writer.finish()
        let side = try BufferedWriter(path: sidecar)
        let indexes = try database.collection(info.name, in: db).listIndexes()
        try side.write(IndexSidecar.document(for: info, indexes: indexes).toExtendedJSON(mode: .canonical) + "\n")
        try side.finish()
        return Output.Item(collection: info.name, file: path, documents: count, bytes: writer.written)
    }
}
