import ArgumentParser
import FoundationEssentials
import Osmanthus
import OsmanthusBSON
import OsmanthusStorage

/// `osmanthus import --data-dir D --db X --collection C --file F [--drop]`, or `--dir DIR` for
/// every `<collection>.jsonl` there: reads Extended JSON lines (relaxed or canonical, what
/// `mongoimport` reads and `export` writes) and inserts them in ordered batches (SPEC.md §14.7).
/// Creates the data directory if needed; a running server's is refused.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Insert Extended JSON lines (mongoimport's format) into collections.")

    @Option(help: "Data directory of the database (created if missing).")
    var dataDir: String

    @Option(help: "Database name.")
    var db: String

    @Option(help: "Collection to import into (with --file; default: the file's name without .jsonl).")
    var collection: String?

    @Option(help: "A file of Extended JSON documents, one per line.")
    var file: String?

    @Option(help: "A directory written by export: every <collection>.jsonl in it.")
    var dir: String?

    @Flag(help: "Drop each collection before importing into it.")
    var drop = false

    @Option(help: "Documents per insert batch.")
    var batchSize: Int = 1000

    @Flag(help: "Print a summary as JSON.")
    var json = false

    func validate() throws {
        guard (file == nil) != (dir == nil) else { throw ValidationError("give exactly one of --file and --dir") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if dir != nil && collection != nil { throw ValidationError("--collection goes with --file, not --dir") }
    }

    struct Output: Encodable {
        struct Item: Encodable {
            let collection: String
            let file: String
            let documents: Int
        }
        let collections: [Item]
    }

    func run() throws {
        try Admin.run {
            var jobs: [(collection: String, file: String)] = []
            if let file {
                jobs.append((collection ?? Self.baseName(file), file))
            } else if let dir {
                let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".jsonl") }.sorted()
                guard !names.isEmpty else { throw AdminError("no .jsonl files in \(dir)") }
                jobs = names.map { (String($0.dropLast(".jsonl".count)), dir + "/" + $0) }
            }
            let database = try Database.open(at: dataDir)
            defer { try? database.close() }
            var items: [Output.Item] = []
            for job in jobs {
                let n = try load(database, collection: job.collection, file: job.file)
                items.append(.init(collection: job.collection, file: job.file, documents: n))
            }
            if json {
                try Admin.printJSON(Output(collections: items))
            } else {
                for i in items { print("imported \(i.documents) documents into \(db).\(i.collection) from \(i.file)") }
            }
        }
    }

    static func baseName(_ path: String) -> String {
        var name = Substring(path.split(separator: "/").last ?? Substring(path))
        for ext in [".jsonl", ".json"] where name.hasSuffix(ext) { name = name.dropLast(ext.count) }
        return String(name)
    }

    private func load(_ database: Database, collection name: String, file: String) throws -> Int {
        if drop { try database.dropCollection(name, in: db) }
        // The sidecar export wrote, if any: the collection's options (for a new collection)
        // now, its secondary indexes once the documents are in (one build per index).
        let sidecarPath = Admin.parent(of: file) + "/" + IndexSidecar.fileName(name)
        var sidecar: Document?
        if let bytes = FileManager.default.contents(atPath: sidecarPath) {
            do {
                sidecar = try Document(extendedJSON: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw AdminError("\(sidecarPath): not an Extended JSON document: \(error)")
            }
        }
        if let sidecar, try database.listCollections(in: db).contains(where: { $0.name == name }) == false {
            try database.createCollection(name, in: db, options: IndexSidecar.collectionOptions(sidecar))
        }
        let collection = database.collection(name, in: db)
        let reader = try LineReader(path: file)
        let progress = ProgressBar("import \(name)", total: reader.size)
        var batch: [Document] = []
        var batchFirstLine = 1
        var lineNumber = 0
        var count = 0
        func flush() throws {
            guard !batch.isEmpty else { return }
            let result = try collection.insertMany(batch, ordered: true)
            if let (index, error) = result.errors.first {
                throw AdminError(
                    "\(file):\(batchFirstLine + index): \(error.message) (\(count + index) documents were inserted before it)")
            }
            count += batch.count
            batch.removeAll(keepingCapacity: true)
            progress.update(reader.offset)
        }
        while let line = try reader.next() {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if batch.isEmpty { batchFirstLine = lineNumber }
            do {
                batch.append(try Document(extendedJSON: String(decoding: line, as: UTF8.self)))
            } catch {
                throw AdminError("\(file):\(lineNumber): not an Extended JSON document: \(error)")
            }
            if batch.count >= batchSize { try flush() }
        }
        try flush()
        progress.finish()
        if let sidecar {
            for model in try IndexSidecar.indexModels(sidecar) {
                try collection.createIndex(model.keys, options: model.options)
            }
        }
        return count
    }
}
