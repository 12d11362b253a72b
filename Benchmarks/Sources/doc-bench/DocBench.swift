// Entry point: generate the data once, then per repeat run the document workloads and YCSB
// on both engines, alternating which goes first, and print the table.
import Foundation

@main
struct DocBench {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains("--help") || arguments.contains("-h") {
            print(DocBenchOptions.usage)
            return
        }
        do {
            try run(try DocBenchOptions.parse(arguments))
        } catch {
            FileHandle.standardError.write(Data("doc-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    private static func run(_ options: DocBenchOptions) throws {
        let root = try options.directory ?? makeTemporaryDirectory()
        let ownsRoot = options.directory == nil
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if ownsRoot { try? FileManager.default.removeItem(atPath: root) } }

        progress("generating data...")
        let docs = options.phases.contains(.docs) ? DocWorkloads(options: options) : nil
        let ycsb = options.phases.contains(.ycsb) ? YCSBWorkloads(options: options) : nil
        let plans = ycsb?.plan() ?? [:]

        let printer = ReportPrinter(options: options)
        printer.printHeader(directory: root, docSizes: docs?.averageSizes)
        var results = Results()
        for repeatIndex in 0..<options.repeatCount {
            let order = repeatIndex % 2 == 0 ? ReportPrinter.engines : ReportPrinter.engines.reversed()
            let runDirectory = "\(root)/run\(repeatIndex + 1)"
            progress("run \(repeatIndex + 1) of \(options.repeatCount), order \(order.joined(separator: ", "))")
            func makeStore(_ engine: String, _ tag: String) throws -> DocStore {
                try FileManager.default.createDirectory(
                    atPath: runDirectory, withIntermediateDirectories: true)
                let path = "\(runDirectory)/\(engine)-\(tag)"
                return engine == "sqlite"
                    ? try SQLiteDocStore(path: path + ".db")
                    : try OsmanthusDocStore(directory: path)
            }
            defer { try? FileManager.default.removeItem(atPath: runDirectory) }
            try docs?.run(&results, engineOrder: order, makeStore: makeStore)
            try? FileManager.default.removeItem(atPath: runDirectory)
            try ycsb?.run(&results, plans: plans, engineOrder: order, makeStore: makeStore)
        }
        printer.printTable(results)
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/doc-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchError("cannot create a directory under /tmp")
        }
        return String(cString: made)
    }
}
