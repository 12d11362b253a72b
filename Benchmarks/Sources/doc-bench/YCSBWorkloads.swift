// YCSB core workloads A–F (Cooper et al., SoCC 2010; the core workload files' proportions):
// 1 KB records of 10 fields x 100 bytes, keys "user" + hashed record number, zipfian requests
// with constant 0.99 (scrambled over the key space; skewed toward the newest for D). Loaded
// once per engine, then run in YCSB's recommended order A, B, C, F, D, E (D and E insert).

struct YCSBWorkloads {
    let options: DocBenchOptions
    let records: [DocRecord]

    enum Operation {
        case read(String)
        case update(String, field: String, value: String)
        case readModifyWrite(String, field: String, value: String)
        case insert(DocRecord)
        case scan(String, length: Int)
    }

    static let runOrder: [Workload] = [.ycsbA, .ycsbB, .ycsbC, .ycsbF, .ycsbD, .ycsbE]
    static let maxScanLength = 100

    init(options: DocBenchOptions) {
        self.options = options
        var rng = SplitMix64(seed: options.seed &+ 2000)
        records = (0..<options.records).map { RecordFactory.ycsbRecord($0, &rng) }
    }

    /// The operations of every workload, generated up front (so both engines get the same ones
    /// and none of the generating is timed). Inserts continue the record numbers from D to E.
    func plan() -> [Workload: [Operation]] {
        var rng = SplitMix64(seed: options.seed &+ 3000)
        var chooser = ScrambledZipfianGenerator(itemCount: options.records)
        var latest = SkewedLatestGenerator(itemCount: options.records)
        var nextRecord = options.records
        var plans: [Workload: [Operation]] = [:]

        func key(_ rng: inout SplitMix64) -> String {
            RecordFactory.ycsbKey(chooser.next(&rng, count: nextRecord))
        }
        func field(_ rng: inout SplitMix64) -> (String, String) {
            (
                RecordFactory.ycsbField(rng.index(below: RecordFactory.ycsbFieldCount)),
                RecordFactory.randomText(RecordFactory.ycsbFieldLength, &rng)
            )
        }
        for workload in Self.runOrder {
            var ops: [Operation] = []
            ops.reserveCapacity(options.ops)
            for _ in 0..<options.ops {
                let p = rng.unit()
                switch workload {
                case .ycsbA, .ycsbB:
                    let readShare = workload == .ycsbA ? 0.5 : 0.95
                    if p < readShare {
                        ops.append(.read(key(&rng)))
                    } else {
                        let (f, v) = field(&rng)
                        ops.append(.update(key(&rng), field: f, value: v))
                    }
                case .ycsbC:
                    ops.append(.read(key(&rng)))
                case .ycsbF:
                    if p < 0.5 {
                        ops.append(.read(key(&rng)))
                    } else {
                        let (f, v) = field(&rng)
                        ops.append(.readModifyWrite(key(&rng), field: f, value: v))
                    }
                case .ycsbD, .ycsbE:
                    if p < 0.95 {
                        if workload == .ycsbD {
                            ops.append(.read(RecordFactory.ycsbKey(latest.next(&rng, count: nextRecord))))
                        } else {
                            ops.append(.scan(key(&rng), length: rng.uniform(1...Self.maxScanLength)))
                        }
                    } else {
                        ops.append(.insert(RecordFactory.ycsbRecord(nextRecord, &rng)))
                        nextRecord += 1
                    }
                default:
                    preconditionFailure("not a YCSB workload: \(workload)")
                }
            }
            plans[workload] = ops
        }
        return plans
    }

    /// One repeat: load each engine (not timed), then run the workloads in YCSB's order,
    /// each engine in turn.
    func run(
        _ results: inout Results, plans: [Workload: [Operation]], engineOrder: [String],
        makeStore: (String, String) throws -> DocStore
    ) throws {
        var stores: [String: DocStore] = [:]
        defer { for store in stores.values { try? store.close() } }
        for engine in engineOrder {
            let store = try makeStore(engine, "ycsb")
            try settle(stores, before: engine)
            stores[engine] = store
            let loaded = try timedLoop(records.count / options.batchSize + 1, maxSeconds: 1e7) { b in
                let slice = records[min(records.count, b * options.batchSize)..<min(records.count, (b + 1) * options.batchSize)]
                if !slice.isEmpty { try store.insertBatch(slice) }
                return slice.count
            }
            let count = try store.count()
            progress(
                "YCSB load [\(engine)]: \(loaded.checksum) records in "
                    + "\(Int(loaded.seconds * 1000)) ms (not timed); count() = \(count)")
            if count != records.count {
                throw BenchError("\(engine): \(count) records after loading \(records.count)")
            }
        }
        for workload in Self.runOrder {
            guard let ops = plans[workload] else { continue }
            for engine in engineOrder {
                guard let store = stores[engine] else { continue }
                try settle(stores, before: engine)
                var missing = 0
                var m = try timedLoop(ops.count, maxSeconds: options.maxSeconds) { i in
                    switch ops[i] {
                    case .read(let key):
                        if try store.get(key) == nil { missing += 1; return 0 }
                        return 1
                    case .update(let key, let field, let value):
                        if try !store.setField(key, field: field, value: value) { missing += 1 }
                        return 0
                    case .readModifyWrite(let key, let field, let value):
                        guard try store.get(key) != nil else { missing += 1; return 0 }
                        if try !store.setField(key, field: field, value: value) { missing += 1 }
                        return 1
                    case .insert(let record):
                        try store.insert(record)
                        return 0
                    case .scan(let key, let length):
                        let n = try store.scan(from: key, limit: length)
                        if n > length { missing += 1 }
                        return n
                    }
                }
                if missing > 0 {
                    m.problems.append("\(missing) operations found no record (or scans returned too many)")
                }
                report(workload, engine, m, &results)
            }
        }
    }
}
