// Command-line flags, shared by the driver and the child processes it starts.

struct BenchOptions: Sendable {
    var num = 1_000_000
    /// Reads for readrandom and seeks for seekrandom; defaults to `num`.
    var reads: Int?
    /// Writes for fillsync and fillsync16: fsync is slow, so far fewer than `num`.
    var syncNum = 2_000
    var engines: [EngineKind] = EngineKind.allCases
    var workloads: [Workload] = Workload.reportOrder
    var repeatCount = 1
    var directory: String?
    var seed: UInt64 = 301
    // Set only by the driver for its children.
    var child = false
    var engine: EngineKind?
    var repeatIndex = 0

    var readCount: Int { reads ?? num }

    static let usage = """
        usage: storage-bench [--num N] [--reads N] [--sync-num N] [--repeat R]
                             [--engines osmanthus,rocksdb,leveldb] [--workloads a,b,...]
                             [--dir PATH] [--seed S]
          --num        keys written by the fills (default 1000000)
          --reads      reads for readrandom, seeks for seekrandom (default: --num)
          --sync-num   writes for fillsync and fillsync16 (default 2000)
          --repeat     run every workload R times, each engine in turn, report the median
          --engines    default: all three
          --workloads  default: \(Workload.reportOrder.map(\.rawValue).joined(separator: ","))
          --dir        where the databases go (default: a fresh directory under /tmp)
        """

    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
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
            case "--num": options.num = try count(flag)
            case "--reads": options.reads = try count(flag)
            case "--sync-num": options.syncNum = try count(flag)
            case "--repeat": options.repeatCount = try count(flag)
            case "--seed": options.seed = UInt64(try count(flag))
            case "--dir": options.directory = try value(flag)
            case "--engines":
                options.engines = try list(try value(flag), flag) { EngineKind(rawValue: $0) }
            case "--workloads":
                let chosen = try list(try value(flag), flag) { Workload(rawValue: $0) }
                options.workloads = Workload.reportOrder.filter(chosen.contains)
            case "--child": options.child = true
            case "--engine":
                let name = try value(flag)
                guard let kind = EngineKind(rawValue: name) else {
                    throw BenchError("unknown engine '\(name)'")
                }
                options.engine = kind
            case "--repeat-index": options.repeatIndex = try count(flag) - 1
            default: throw BenchError("unknown flag '\(flag)'\n\(usage)")
            }
        }
        return options
    }

    private static func list<T>(
        _ text: String, _ flag: String, _ make: (String) -> T?
    ) throws -> [T] {
        let items = try text.split(separator: ",").map { name -> T in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let item = make(trimmed) else {
                throw BenchError("\(flag): unknown '\(trimmed)'")
            }
            return item
        }
        guard !items.isEmpty else { throw BenchError("\(flag): empty list") }
        return items
    }

    /// The flags a child needs to run the same workloads on the same data.
    func childArguments(engine: EngineKind, repeatIndex: Int, directory: String) -> [String] {
        var args = [
            "--child", "--engine", engine.rawValue, "--repeat-index", String(repeatIndex + 1),
            "--num", String(num), "--reads", String(readCount), "--sync-num", String(syncNum),
            "--seed", String(seed), "--dir", directory,
            "--workloads", workloads.map(\.rawValue).joined(separator: ","),
        ]
        args += ["--engines", engine.rawValue]
        return args
    }
}
