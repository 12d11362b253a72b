// Secondary-index workloads: equality on an indexed field, ranges of 10 and of 1,000 documents
// on it, and a compound index giving a sort order; Osmanthus's indexes beside SQLite's
// expression indexes on json_extract, built untimed once the data is in.
extension DocWorkloads {
    func runIndexWorkloads(_ stores: [String: DocStore], engineOrder: [String], _ results: inout Results) throws {
        // Bounds come from the names as loaded (no workload before this one changes a name).
        let names = records.compactMap { $0.document["name"]?.stringValue }.sorted()
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        var rng = SplitMix64(seed: options.seed &+ 2000)
        let n = names.count
        let queries = options.indexOps ?? options.rangeOps
        let eqNames = (0..<queries).map { _ in names[rng.index(below: n)] }
        func ranges(_ width: Int) -> [(String, String)] {
            (0..<queries).map { _ in
                let lo = rng.index(below: max(1, n - width))
                return (names[lo], names[min(n - 1, lo + width - 1)])
            }
        }
        let ranges10 = ranges(10)
        let ranges1000 = ranges(1000)
        // Documents with lo <= name <= hi, from the sorted names.
        func expected(_ r: (String, String)) -> Int {
            lowerBound(names, above: r.1, inclusive: true) - lowerBound(names, above: r.0, inclusive: false)
        }
        let cities = (0..<queries).map { _ in RecordFactory.cities[rng.index(below: RecordFactory.cities.count)] }

        for engine in engineOrder {
            guard let store = stores[engine] else { continue }
            let started = ContinuousClock.now
            try store.prepareIndexQueries()
            try settle(stores, before: engine)
            progress("\(engine): name and (city, age) indexes built in \(String(format: "%.2f", (ContinuousClock.now - started).seconds)) s (not timed)")

            var m = try timedLoop(eqNames.count, maxSeconds: options.maxSeconds) { i in try store.findName(eqNames[i]) }
            let wantEq = eqNames.prefix(m.ops).reduce(0) { $0 + (counts[$1] ?? 0) }
            if m.checksum != wantEq { m.problems.append("found \(m.checksum) documents in all, expected \(wantEq)") }
            report(.indexEq, engine, m, &results)

            for (workload, list) in [(Workload.indexRange10, ranges10), (.indexRange1000, ranges1000)] {
                m = try timedLoop(list.count, maxSeconds: options.maxSeconds) { i in
                    try store.findNameRange(list[i].0, list[i].1)
                }
                let want = list.prefix(m.ops).reduce(0) { $0 + expected($1) }
                if m.checksum != want { m.problems.append("found \(m.checksum) documents in all, expected \(want)") }
                report(workload, engine, m, &results)
            }

            m = try timedLoop(cities.count, maxSeconds: options.maxSeconds) { i in
                try store.findCitySortedByAge(cities[i], limit: 100)
            }
            report(.indexCompoundSort, engine, m, &results)
        }
    }

    /// The number of names below `value` (or at most `value`, inclusive).
    private func lowerBound(_ sorted: [String], above value: String, inclusive: Bool) -> Int {
        var lo = 0
        var hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let below = inclusive ? sorted[mid] <= value : sorted[mid] < value
            if below { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
