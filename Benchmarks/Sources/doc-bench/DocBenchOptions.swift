// Command-line flags.

struct DocBenchOptions: Sendable {
    /// Documents for the insert, get, update and range workloads.
    var docs = 200_000
    /// Records loaded before the YCSB workloads.
    var records = 100_000
    /// Operations per YCSB workload, and gets and updates per document workload.
    var ops = 100_000
    /// Queries per range workload (Osmanthus answers them with collection scans).
    var rangeOps = 1_000
    /// Queries per secondary-index workload (name equality and ranges, city sorted by age);
    /// nil: `rangeOps`.
    var indexOps: Int?
    /// `$group` queries over the whole collection.
    var groupOps = 5
    var batchSize = 1_000
    var repeatCount = 1
    /// A workload still running after this long is stopped; its rate covers what finished.
    var maxSeconds = 120.0
    var phases: Set<Phase> = [.docs, .ycsb]
    var directory: String?
    var seed: UInt64 = 301

    enum Phase: String, Sendable { case docs, ycsb }

    static let usage = """
        usage: doc-bench [--docs N] [--records N] [--ops N] [--range-ops N] [--index-ops N] [--group-ops N] [--repeat R]
                         [--max-seconds S] [--only docs|ycsb] [--dir PATH] [--seed S]
          --docs         documents for insert/get/update/range workloads (default 200000)
          --records      records loaded for YCSB A-F (default 100000)
          --ops          operations per YCSB workload and per get/update workload (default 100000)
          --range-ops    queries per range workload (default 1000)
          --index-ops    queries per secondary-index workload (default: --range-ops)
          --group-ops    $group / GROUP BY queries over all documents (default 5)
          --repeat       run everything R times, report the median ops/s
          --max-seconds  stop a workload on one engine after S seconds (default 120); the
                         rate then covers the operations done and the cell is marked ~
          --only         run only the document workloads or only YCSB
          --dir          where the databases go (default: a fresh directory under /tmp)
        """

    static func parse(_ arguments: [String]) throws -> DocBenchOptions {
        var options = DocBenchOptions()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            return v
        }
        func count(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0 else {
                throw BenchError("\(flag): expected a positive number, got '\(text)'")
            }
            return n
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--docs": options.docs = try count(flag)
            case "--records": options.records = try count(flag)
            case "--ops": options.ops = try count(flag)
            case "--range-ops": options.rangeOps = try count(flag)
            case "--index-ops": options.indexOps = try count(flag)
            case "--group-ops": options.groupOps = try count(flag)
            case "--batch-size": options.batchSize = try count(flag)
            case "--repeat": options.repeatCount = try count(flag)
            case "--max-seconds": options.maxSeconds = Double(try count(flag))
            case "--seed": options.seed = UInt64(try count(flag))
            case "--dir": options.directory = try value(flag)
            case "--only":
                let name = try value(flag)
                guard let phase = Phase(rawValue: name) else {
                    throw BenchError("--only: expected docs or ycsb, got '\(name)'")
                }
                options.phases = [phase]
            default: throw BenchError("unknown flag '\(flag)'\n\(usage)")
            }
        }
        return options
    }
}
