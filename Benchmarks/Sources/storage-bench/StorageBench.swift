// Entry point: the driver by default, one engine's run when started with --child.
import Foundation

@main
struct StorageBench {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains("--help") || arguments.contains("-h") {
            print(BenchOptions.usage)
            return
        }
        do {
            let options = try BenchOptions.parse(arguments)
            if options.child {
                try runChild(options)
            } else {
                try Driver(options: options).run()
            }
        } catch {
            FileHandle.standardError.write(Data("storage-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    /// One engine, one repeat: generate the shared data, run, print the report as one line.
    private static func runChild(_ options: BenchOptions) throws {
        guard let engine = options.engine, let directory = options.directory else {
            throw BenchError("--child needs --engine and --dir")
        }
        let data = BenchData(count: options.num, seed: options.seed)
        let runner = WorkloadRunner(
            options: options, kind: engine, data: data, directory: directory)
        let report = runner.run()
        let json = try JSONEncoder().encode(report)
        print(ChildReport.linePrefix + String(decoding: json, as: UTF8.self))
    }
}
