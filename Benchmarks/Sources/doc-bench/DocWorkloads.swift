// The document workloads: inserts one by one and in batches, get and update by _id, and range
// queries on age, each run on both engines in turn with the same operations.
import Foundation

struct DocWorkloads {
    let options: DocBenchOptions
    let records: [DocRecord]
    /// Ages as loaded; the updates' $inc is replayed on a copy to know the right range answers.
    let initialAges: [Int]

    init(options: DocBenchOptions) {
        self.options = options
        var rng = SplitMix64(seed: options.seed)
        var records: [DocRecord] = []
        records.reserveCapacity(options.docs)
        var ages: [Int] = []
        for i in 0..<options.docs {
            let record = RecordFactory.person(i, &rng)
            records.append(record)
            if case .int32(let age) = record.document["age"] { ages.append(Int(age)) }
        }
        self.records = records
        initialAges = ages
    }

    var averageSizes: (bson: Int, json: Int) {
        let n = max(records.count, 1)
        return (
            records.reduce(0) { $0 + $1.document.byteCount } / n,
            records.reduce(0) { $0 + $1.json.utf8.count } / n
        )
    }

    /// One repeat: both engines, workload by workload. `makeStores(tag)` opens a fresh pair.
    func run(
        _ results: inout Results, engineOrder: [String],
        makeStore: (String, String) throws -> DocStore
    ) throws {
        let n = records.count
        let opsRNGSeed = options.seed &+ 1000

        // Inserts one by one, each engine into its own empty database.
        for engine in engineOrder {
            let store = try makeStore(engine, "insert-one")
            var m = try timedLoop(n, maxSeconds: options.maxSeconds) { i in
                try store.insert(records[i])
                return 1
            }
            try expectCount(store, m.completed ? n : m.ops, &m)
            try store.close()
            report(.insertOne, engine, m, &results)
        }

        // Batched inserts; these databases serve the rest of the document workloads.
        var stores: [String: DocStore] = [:]
        defer { for store in stores.values { try? store.close() } }
        let batches = (n + options.batchSize - 1) / options.batchSize
        for engine in engineOrder {
            let store = try makeStore(engine, "docs")
            try settle(stores, before: engine)
            stores[engine] = store
            var m = try timedLoop(batches, maxSeconds: 1e7) { b in
                let slice = records[(b * options.batchSize)..<min(n, (b + 1) * options.batchSize)]
                try store.insertBatch(slice)
                return slice.count
            }
            m.ops = m.checksum
            try expectCount(store, n, &m)
            report(.insertBatch, engine, m, &results)
        }

        // Gets by _id, uniformly over the documents.
        var rng = SplitMix64(seed: opsRNGSeed)
        let getIDs = (0..<options.ops).map { _ in RecordFactory.docID(rng.index(below: n)) }
        for engine in engineOrder {
            guard let store = stores[engine] else { continue }
            try settle(stores, before: engine)
            var m = try timedLoop(getIDs.count, maxSeconds: options.maxSeconds) { i in
                try store.get(getIDs[i]).map { $0.isEmpty ? 0 : 1 } ?? 0
            }
            if m.checksum != m.ops { m.problems.append("\(m.ops - m.checksum) of \(m.ops) gets found nothing") }
            report(.getByID, engine, m, &results)
        }

        // Updates by _id: $set city, $inc age by 1.
        let updates = (0..<options.ops).map { _ in
            (rng.index(below: n), RecordFactory.cities[rng.index(below: RecordFactory.cities.count)])
        }
        var updatesDone: [String: Int] = [:]
        for engine in engineOrder {
            guard let store = stores[engine] else { continue }
            try settle(stores, before: engine)
            var m = try timedLoop(updates.count, maxSeconds: options.maxSeconds) { i in
                try store.updateCityAge(RecordFactory.docID(updates[i].0), city: updates[i].1, ageDelta: 1) ? 1 : 0
            }
            if m.checksum != m.ops {
                m.problems.append("\(m.ops - m.checksum) of \(m.ops) updates matched nothing")
            }
            updatesDone[engine] = m.ops
            report(.updateByID, engine, m, &results)
        }

        // Range queries on age: [lo, lo + 2], about 3/63 of the documents each.
        let ranges = (0..<options.rangeOps).map { _ in
            rng.uniform(RecordFactory.minAge...(RecordFactory.maxAge - 2))
        }
        for engine in engineOrder {
            guard let store = stores[engine] else { continue }
            let started = ContinuousClock.now
            try store.prepareAgeQueries()
            let prepare = (ContinuousClock.now - started).seconds
            if prepare > 0.01 {
                progress("\(engine): age index built in \(String(format: "%.2f", prepare)) s (not timed)")
            }
            try settle(stores, before: engine)
            let histogram = ageHistogram(afterUpdates: updates.prefix(updatesDone[engine] ?? 0))
            func expected(_ lo: Int) -> Int { (lo...(lo + 2)).reduce(0) { $0 + (histogram[$1] ?? 0) } }

            var m = try timedLoop(ranges.count, maxSeconds: options.maxSeconds) { i in
                try store.countAge(ranges[i], ranges[i] + 2)
            }
            let want = ranges.prefix(m.ops).reduce(0) { $0 + expected($1) }
            if m.checksum != want { m.problems.append("counted \(m.checksum) documents in all, expected \(want)") }
            report(.rangeCount, engine, m, &results)

            m = try timedLoop(ranges.count, maxSeconds: options.maxSeconds) { i in
                try store.fetchAge(ranges[i], ranges[i] + 2, limit: 100)
            }
            let wantFetched = ranges.prefix(m.ops).reduce(0) { $0 + min(100, expected($1)) }
            if m.checksum != wantFetched {
                m.problems.append("fetched \(m.checksum) documents in all, expected \(wantFetched)")
            }
            report(.rangeFetch, engine, m, &results)
        }

        // $group over the whole collection: documents per city and their average age.
        for engine in engineOrder {
            guard let store = stores[engine] else { continue }
            try settle(stores, before: engine)
            var groups = Set<Int>()
            var m = try timedLoop(options.groupOps, maxSeconds: options.maxSeconds) { _ in
                let (found, documents) = try store.groupByCity()
                groups.insert(found)
                return documents
            }
            if m.checksum != m.ops * n {
                m.problems.append("grouped \(m.checksum) documents in \(m.ops) queries, expected \(n) each")
            }
            if groups.count != 1 { m.problems.append("the number of groups varied: \(groups.sorted())") }
            report(.groupByCity, engine, m, &results)
        }
        try runIndexWorkloads(stores, engineOrder: engineOrder, &results)
    }

    /// Documents per age once these updates ($inc age 1 each) have been applied.
    private func ageHistogram(afterUpdates updates: ArraySlice<(Int, String)>) -> [Int: Int] {
        var ages = initialAges
        for (index, _) in updates { ages[index] += 1 }
        var histogram: [Int: Int] = [:]
        for age in ages { histogram[age, default: 0] += 1 }
        return histogram
    }

    private func expectCount(_ store: DocStore, _ expected: Int, _ m: inout Measurement) throws {
        let found = try store.count()
        if found != expected { m.problems.append("count() is \(found) after the inserts, expected \(expected)") }
    }
}

/// Adds a measurement and says how it went on stderr.
func report(_ workload: Workload, _ engine: String, _ m: Measurement, _ results: inout Results) {
    results.add(workload, engine, m)
    var line = "\(workload.rawValue) [\(engine)]: \(Int(m.opsPerSecond)) ops/s "
        + "(\(m.ops) \(workload.unit) in \(String(format: "%.2f", m.seconds)) s)"
        + String(format: "; cpu %.2f s, other threads %.2f s", m.threadCPU, m.otherCPU)
    if !m.completed { line += " STOPPED at the time limit" }
    for problem in m.problems { line += "\n  PROBLEM: \(problem)" }
    progress(line)
}

func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
