// The printed report: a header saying exactly what ran, then one table of ratios.
import CSQLite
import Foundation

struct ReportPrinter {
    let options: DocBenchOptions
    static let engines = ["osmanthus", "sqlite"]

    func printHeader(directory: String, docSizes: (bson: Int, json: Int)?) {
        var lines = [
            "doc-bench: Osmanthus (embedded API) vs SQLite \(String(cString: sqlite3_libversion())), "
                + "same process, same data, same operations",
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average "
                + loadAverage() + ", databases under \(directory)",
            "repeats: \(options.repeatCount) (median ops/s shown; engines alternate who goes first)",
            "Before each timed run the other engine's background work is finished first (Osmanthus: flushes and "
                + "compactions), untimed; an engine's own leftovers run during its own runs.",
            "",
            "Durability: neither engine fsyncs per commit. Osmanthus: default DatabaseOptions "
                + "(syncWrites false: the WAL is written, not fsynced, per write; the change log",
            "  is on, so each write also stores its change record in the same batch).",
            "  SQLite: \(SQLiteDocStore.pragmas.joined(separator: ", ")) (WAL + NORMAL syncs "
                + "only at checkpoints); cache_size matches Osmanthus's 64 MiB block cache.",
            "SQLite schema: docs(id TEXT PRIMARY KEY, body JSON), body = json(?) of the document's "
                + "JSON text; prepared statements reused; one-by-one inserts autocommit, batches "
                + "one transaction each.",
        ]
        if options.phases.contains(.docs) {
            let sizes = docSizes.map { "\($0.bson) B BSON / \($0.json) B JSON" } ?? "?"
            lines += [
                "Document workloads: \(options.docs) documents (name, age, city, tags[3], note; "
                    + "avg \(sizes)), _id strings inserted in increasing order (as ObjectIds are);",
                "  \(options.ops) gets and \(options.ops) updates by _id (uniform), "
                    + "\(options.rangeOps) range queries age in [x, x+2] (about 5% of documents).",
                "  Age ranges: SQLite CREATE INDEX ON docs(json_extract(body,'$.age')), Osmanthus "
                    + "createIndex({age: 1}), both built after the inserts and not timed.",
                "  Index workloads: \(options.indexOps ?? options.rangeOps) queries each (--index-ops), "
                    + "started right after the indexes are built (first reads of blocks/pages included).",
            ]
        }
        if options.phases.contains(.ycsb) {
            lines += [
                "YCSB: \(options.records) records of 10 fields x 100 B (loaded in batches, not "
                    + "timed), \(options.ops) operations per workload, zipfian constant "
                    + "\(ZipfianGenerator.ycsbTheta)",
                "  (scrambled; D: skewed to the latest insert), run in order A B C F D E on one "
                    + "database per engine; updates $set one field; scans: _id >= key in key "
                    + "order, length uniform 1-\(YCSBWorkloads.maxScanLength).",
                "  Osmanthus answers a scan filter {_id: {$gte: k}} with a primary-key range "
                    + "(seek to k, read in key order).",
            ]
        }
        lines.append("Per-run progress and any PROBLEM lines go to stderr.")
        print(lines.joined(separator: "\n"))
        fflush(nil)  // the header before the progress lines on a shared terminal
    }

    func printTable(_ results: Results) {
        var rows: [[String]] = [["workload", "osmanthus ops/s", "sqlite ops/s", "ratio", "target", "met"]]
        var notes: [String] = []
        for workload in Workload.allCases {
            let byEngine = Self.engines.map { results.measurements(workload, $0) }
            guard byEngine.contains(where: { !$0.isEmpty }) else { continue }
            var cells: [String] = [workload.rawValue]
            var medians: [Double] = []
            for (engine, ms) in zip(Self.engines, byEngine) {
                let median = Self.median(ms.map(\.opsPerSecond))
                medians.append(median)
                var cell = ms.isEmpty ? "-" : Self.format(median)
                if ms.contains(where: { !$0.completed }) {
                    cell = "~" + cell
                    let done = ms.map { String($0.ops) }.joined(separator: ", ")
                    notes.append(
                        "~ \(workload.rawValue) [\(engine)]: stopped at --max-seconds "
                            + "\(Int(options.maxSeconds)); \(workload.unit) done per run: \(done)")
                }
                let problems = ms.flatMap(\.problems)
                if !problems.isEmpty {
                    cell += " (!)"
                    notes += problems.map { "(!) \(workload.rawValue) [\(engine)]: \($0)" }
                }
                cells.append(cell)
            }
            notes += crossCheck(workload, byEngine)
            let ratio = medians[1] > 0 ? medians[0] / medians[1] : 0
            cells.append(medians[1] > 0 ? String(format: "%.2fx", ratio) : "-")
            if let target = workload.targetRatio {
                cells.append(String(format: ">= %.0fx", target))
                cells.append(ratio >= target ? "yes" : "NO")
            } else {
                cells += ["-", "-"]
            }
            rows.append(cells)
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        print("")
        for (r, row) in rows.enumerated() {
            let line = row.enumerated().map { c, text in
                c == 0 ? text.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - text.count) + text
            }.joined(separator: " | ")
            print(line)
            if r == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")) }
        }
        print("")
        print("ratio = osmanthus ops/s / sqlite ops/s (median of each); batches count documents/s.")
        for note in notes { print(note) }
    }

    /// Both engines ran the same operations: their answers must agree, operation by operation,
    /// over those both finished.
    private func crossCheck(_ workload: Workload, _ byEngine: [[Measurement]]) -> [String] {
        var notes: [String] = []
        for (i, (a, b)) in zip(byEngine[0], byEngine[1]).enumerated() {
            let both = min(a.perOperation.count, b.perOperation.count)
            guard let first = (0..<both).first(where: { a.perOperation[$0] != b.perOperation[$0] })
            else { continue }
            let differing = (0..<both).filter { a.perOperation[$0] != b.perOperation[$0] }.count
            notes.append(
                "(!) \(workload.rawValue) run \(i + 1): the engines disagree on \(differing) of "
                    + "\(both) operations; first at operation \(first): osmanthus "
                    + "\(a.perOperation[first]), sqlite \(b.perOperation[first]) documents")
        }
        return notes
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    static func format(_ rate: Double) -> String {
        if rate >= 100 { return String(Int(rate.rounded())) }
        return String(format: "%.1f", rate)
    }

    private func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
