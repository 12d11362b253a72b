// The printed report: a header that states exactly what ran, then the comparison tables.
import Foundation

struct ReportPrinter {
    let options: BenchOptions
    let engines: [EngineKind]
    private let settings = EngineSettings()
    /// Every engine gets a column, run or not, so reports line up over time.
    private let columns = EngineKind.allCases

    func printHeader(directory: String) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("storage-bench: db_bench-style workloads, the same data for every engine")
        print(
            "machine: \(ProcessStats.cpuModel()), \(cores) cores, \(ProcessStats.memoryTotal());"
                + " load average at start \(ProcessStats.loadAverage())")
        print("  (a shared machine: other processes, e.g. compilers, may be running)")
        print(
            "data: \(grouped(options.num)) keys of \(BenchData.keySize) random bytes (distinct);"
                + " values of \(BenchData.valueSize) bytes, half compressible (50 random bytes"
                + " + the same 50 again, like db_bench --compression_ratio=0.5);"
                + " seed \(options.seed)")
        let medianNote = options.repeatCount > 1 ? "; ± is half the min-max range" : ""
        print(
            "reads/seeks: \(grouped(options.readCount)); sync writes: \(grouped(options.syncNum));"
                + " repeats: \(options.repeatCount) (median\(medianNote))")
        print("databases under \(directory) (removed afterwards)")
        print(
            "engines, each in its own process, runs interleaved; shared settings: block cache"
                + " \(settings.blockCacheBytes >> 20) MiB, Bloom \(settings.bloomBitsPerKey) bits/key"
        )
        for engine in engines {
            print("  \(engine.rawValue) \(engine.version): \(engine.settingsDescription(settings))")
        }
        if engines.contains(where: { $0 != .osmanthus }) {
            print(
                "  (Debian's RocksDB and LevelDB are built without -DNDEBUG: assertions stay on,"
                    + " and RocksDB carries its debug-only code; upstream reports that costing"
                    + " RocksDB up to 2x on writes)")
        }
        print("workloads (fills start from an empty DB; the rest use the DB fillrandom built):")
        for workload in options.workloads {
            let name = workload.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
            print("  \(name) \(workload.summary)")
        }
        print("")
        fflush(nil)  // the header before the children's progress lines
    }

    func printResults(reports: [EngineKind: [ChildReport]], failures: [EngineKind: [String]]) {
        print("")
        var rows: [[String]] = [
            ["workload"] + columns.map { "\($0.rawValue) ops/s" } + ["osmanthus ÷ best peer"]
        ]
        for workload in options.workloads {
            var medians: [EngineKind: Double] = [:]
            var cells = [workload.rawValue]
            for engine in columns {
                let samples = (reports[engine] ?? []).flatMap { report in
                    report.results.filter { $0.workload == workload }.map(\.opsPerSecond)
                }
                guard let median = median(samples) else {
                    cells.append("—")
                    continue
                }
                medians[engine] = median
                // A wrong answer (missing key, short scan) makes the speed meaningless: flag it.
                let wrong = (reports[engine] ?? []).contains { report in
                    report.problems.contains { $0.hasPrefix(workload.rawValue + ":") }
                }
                cells.append(
                    grouped(Int(median.rounded())) + spread(samples, median) + (wrong ? " (!)" : "")
                )
            }
            cells.append(ratioCell(medians))
            rows.append(cells)
        }
        printTable(rows, rightAligned: true)
        print("")

        var resources: [[String]] = [["resource"] + columns.map(\.rawValue)]
        resources.append(
            ["disk after fillrandom (reopened)"]
                + columns.map { engine in
                    let sizes = (reports[engine] ?? []).compactMap(\.diskBytesAfterFill)
                    return median(sizes.map(Double.init)).map { mebibytes(Int($0)) } ?? "—"
                })
        if options.workloads.contains(.fillsync) && options.workloads.contains(.fillsync16) {
            // Per run (both in the same process, minutes apart at most), then the median: what
            // group commit buys, less exposed to load changes between runs than a ratio of medians.
            resources.append(
                ["fillsync16 ÷ fillsync (median of runs)"]
                    + columns.map { engine in
                        let ratios = (reports[engine] ?? []).compactMap { report -> Double? in
                            let rate = { (w: Workload) in
                                report.results.first { $0.workload == w }?.opsPerSecond
                            }
                            guard let many = rate(.fillsync16), let one = rate(.fillsync), one > 0
                            else { return nil }
                            return many / one
                        }
                        return median(ratios).map { String(format: "%.1f×", $0) } ?? "—"
                    })
        }
        resources.append(
            ["peak RSS (VmHWM, max over runs)"]
                + columns.map { engine in
                    let peaks = (reports[engine] ?? []).map(\.peakRSSBytes)
                    return peaks.max().map(mebibytes) ?? "—"
                })
        resources.append(
            ["  of which bench data + runtime"]
                + columns.map { engine in
                    let base = (reports[engine] ?? []).map(\.baselineRSSBytes)
                    return base.max().map(mebibytes) ?? "—"
                })
        resources.append(
            ["RSS at end, DB open: anon + file"]
                + columns.map { engine in
                    guard let last = reports[engine]?.last else { return "—" }
                    return mebibytes(last.endAnonymousRSSBytes) + " + "
                        + mebibytes(last.endFileRSSBytes)
                })
        printTable(resources, rightAligned: true)

        if failures.values.contains(where: { !$0.isEmpty }) {
            print(
                "— in a column that ran: the engine failed before that workload; see FAILED below")
        }
        if reports.values.contains(where: { $0.contains { !$0.problems.isEmpty } }) {
            print("(!) the engine gave wrong answers in that workload; see PROBLEM below")
        }
        for engine in columns {
            for report in reports[engine] ?? [] {
                for problem in report.problems {
                    print("PROBLEM \(engine.rawValue) run \(report.repeatIndex + 1): \(problem)")
                }
            }
            for failure in failures[engine] ?? [] {
                print("FAILED \(engine.rawValue) \(failure)")
            }
        }
        print("load average at end \(ProcessStats.loadAverage())")
    }

    private func ratioCell(_ medians: [EngineKind: Double]) -> String {
        guard let ours = medians[.osmanthus] else { return "—" }
        let peers = medians.filter { $0.key != .osmanthus }
        guard let best = peers.max(by: { $0.value < $1.value }), best.value > 0 else { return "—" }
        return String(format: "%.2f× (vs %@)", ours / best.value, best.key.rawValue)
    }

    private func median(_ samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    private func spread(_ samples: [Double], _ median: Double) -> String {
        guard samples.count > 1, let low = samples.min(), let high = samples.max(), median > 0
        else { return "" }
        return String(format: " ±%.0f%%", (high - low) / 2 / median * 100)
    }

    private func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    private func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// A Markdown table, padded so it also reads well in a terminal.
    private func printTable(_ rows: [[String]], rightAligned: Bool) {
        guard let header = rows.first else { return }
        let widths = header.indices.map { column in
            rows.map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 || !rightAligned ? cell + pad : pad + cell
            }
            return "| " + padded.joined(separator: " | ") + " |"
        }
        print(line(header))
        print(
            "|"
                + widths.enumerated().map { column, width in
                    column == 0
                        ? String(repeating: "-", count: width + 2)
                        : String(repeating: "-", count: width + 1) + ":"
                }.joined(separator: "|") + "|")
        for row in rows.dropFirst() { print(line(row)) }
    }
}
