// The parent side: runs every engine in its own child process and prints the comparison.
import Foundation

/// Starts one child per engine and repeat (engines interleaved, so a noisy spell on a shared
/// machine spreads over all of them), collects their reports and prints the tables.
struct Driver {
    let options: BenchOptions

    /// STORAGE_BENCH_KEEP_DB=1: leave each engine's database in place after its run (use with
    /// `--dir`), e.g. to see which files and blocks make up the size after fillrandom.
    static var keepDatabases: Bool { getenv("STORAGE_BENCH_KEEP_DB") != nil }

    func run() throws {
        let engines = options.engines

        let root: String
        let ownsRoot = options.directory == nil
        if let directory = options.directory {
            root = directory
            try FileManager.default.createDirectory(
                atPath: root, withIntermediateDirectories: true)
        } else {
            root = try Self.makeTemporaryDirectory()
        }
        defer { if ownsRoot { try? FileManager.default.removeItem(atPath: root) } }

        let report = ReportPrinter(options: options, engines: engines)
        report.printHeader(directory: root)

        let executable = Self.executablePath()
        var reports: [EngineKind: [ChildReport]] = [:]
        var failures: [EngineKind: [String]] = [:]
        for repeatIndex in 0..<options.repeatCount {
            for engine in engines {
                let directory = "\(root)/\(engine.rawValue)-run\(repeatIndex + 1)"
                // STORAGE_BENCH_KEEP_DB=1 (with --dir): the databases stay, to inspect their files.
                defer { if !Self.keepDatabases { try? FileManager.default.removeItem(atPath: directory) } }
                do {
                    let child = try runChild(
                        executable,
                        options.childArguments(
                            engine: engine, repeatIndex: repeatIndex, directory: directory))
                    reports[engine, default: []].append(child)
                    if let failure = child.failure {
                        failures[engine, default: []].append("run \(repeatIndex + 1): \(failure)")
                    }
                } catch {
                    failures[engine, default: []].append("run \(repeatIndex + 1): \(error)")
                }
            }
        }
        report.printResults(reports: reports, failures: failures)
    }

    /// Runs one child to completion; its progress goes straight to our stderr, its single
    /// result line comes back on a pipe.
    private func runChild(_ executable: String, _ arguments: [String]) throws -> ChildReport {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: bytes, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchError(
                "child exited with status \(process.terminationStatus) "
                    + "(\(process.terminationReason == .uncaughtSignal ? "signal" : "exit"))")
        }
        guard
            let line = text.split(separator: "\n").last(where: {
                $0.hasPrefix(ChildReport.linePrefix)
            })
        else { throw BenchError("child printed no result") }
        let json = Data(line.dropFirst(ChildReport.linePrefix.count).utf8)
        return try JSONDecoder().decode(ChildReport.self, from: json)
    }

    private static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/storage-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchError("cannot create a directory under /tmp")
        }
        return String(cString: made)
    }
}
