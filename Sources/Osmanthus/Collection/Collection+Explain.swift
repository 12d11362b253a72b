import OsmanthusBSON
import OsmanthusStorage

/// `explain`: the plan the planner chose for a find, the candidates it rejected, and what
/// running it examined (MongoDB's queryPlanner / executionStats shape).
extension Collection {
    public func explain(_ filter: Document = [:], options: FindOptions = FindOptions()) throws -> Document {
        try wrapping {
            let parsed = try Filter(filter)
            let sortSpec = try options.sort.map { try SortSpec($0) }
            var queryPlanner: Document = [
                "namespace": .string(namespace), "parsedQuery": .document(filter), "indexFilterSet": false,
            ]
            guard let entry else {
                queryPlanner.append("winningPlan", ["stage": "EOF"])
                queryPlanner.append("rejectedPlans", .array([]))
                return ["queryPlanner": .document(queryPlanner),
                        "executionStats": ["executionSuccess": true, "nReturned": 0, "totalKeysExamined": 0,
                                           "totalDocsExamined": 0]]
            }
            var chooser = planner(entry)
            chooser.usePlanCache = false  // explain shows a fresh trial
            let plan = try chooser.plan(
                parsed, sort: sortSpec, projection: options.projection, hint: options.hint, collection: self)
            var stage: Document
            var covered = false
            switch plan.kind {
            case .primary(let access): stage = QueryPlanner.primaryStage(access)
            case .index(let p):
                stage = p.stage
                covered = p.covered
            }
            if let sortSpec, !sortSpec.isEmpty, !plan.providesSort {
                stage = ["stage": "SORT", "sortPattern": .document(options.sort ?? [:]), "inputStage": .document(stage)]
            }
            if options.projection != nil && !covered {
                stage = ["stage": "PROJECTION_SIMPLE", "transformBy": .document(options.projection ?? [:]),
                         "inputStage": .document(stage)]
            }
            if options.skip > 0 { stage = ["stage": "SKIP", "skipAmount": .int64(Int64(options.skip)), "inputStage": .document(stage)] }
            if options.limit > 0 { stage = ["stage": "LIMIT", "limitAmount": .int64(Int64(options.limit)), "inputStage": .document(stage)] }
            queryPlanner.append("winningPlan", .document(stage))
            queryPlanner.append("rejectedPlans", .array(plan.rejected.map { .document($0) }))
            let (matched, keys, docs) = try examine(parsed, entry, plan)
            var returned = max(0, matched - options.skip)
            if options.limit > 0 { returned = min(returned, options.limit) }
            var stats: Document = [
                "executionSuccess": true, "nReturned": .int64(Int64(returned)),
                "totalKeysExamined": .int64(Int64(keys)), "totalDocsExamined": .int64(Int64(docs)),
            ]
            // The trial among several index candidates: each one's works, results and end.
            if let trial = plan.trial {
                stats.append("allPlansExecution", .array(trial.outcomes.map { .document($0.document) }))
            }
            return ["queryPlanner": .document(queryPlanner), "executionStats": .document(stats)]
        }
    }

    /// Runs a plan to the end: matching documents, index keys read, documents read.
    private func examine(_ filter: Filter, _ entry: CatalogEntry, _ plan: QueryPlan) throws -> (Int, Int, Int) {
        switch plan.kind {
        case .index(let p):
            let scan = IndexScan(plan: p, view: storage.readView(), documentPrefix: entry.documentPrefix, filter: filter)
            var matched = 0
            while try scan.next() != nil { matched += 1 }
            return (matched, scan.keysExamined, scan.docsExamined)
        case .primary(let access):
            switch access {
            case .point(let key):
                guard let raw = try storage.get(key) else { return (0, 1, 0) }
                return (filter.matches(try Document(bytes: raw)) ? 1 : 0, 1, 1)
            case .prefix(let prefix), .scan(let prefix), .range(let prefix, _, _):
                var start = prefix
                var end: [UInt8] = []
                if case .range(_, let s, let e) = access { (start, end) = (s, e) }
                let it = storage.makeIterator()
                it.seek(start)
                var matched = 0
                var docs = 0
                while it.isValid, it.key.starts(with: prefix), end.isEmpty || compareBytes(it.key, end) < 0 {
                    docs += 1
                    if filter.matches(try Document(bytes: it.value)) { matched += 1 }
                    it.next()
                }
                if let e = it.error { throw e }
                var keys = 0
                if case .range = access { keys = docs }
                return (matched, keys, docs)
            }
        }
    }
}
