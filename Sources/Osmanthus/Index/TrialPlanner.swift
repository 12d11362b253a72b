import OsmanthusBSON
import OsmanthusStorage

/// Chooses among several index candidates by running them (MongoDB's multi-planner, SPEC.md
/// §11.6): each candidate's scan is worked in turn, one index key per work, on one snapshot;
/// the first to produce `resultTarget` results or reach its end wins. A candidate that does not
/// give the requested sort order produces nothing until its end (its results would go through a
/// blocking sort). If none finishes within `maxWorks` keys each, the most productive wins
/// (results per work; ties to the rule order). The planner caches the winner and its works per
/// query shape (`PlanCache`); the query then runs the winning plan from the start.
struct TrialPlanner {
    static let resultTarget = 101
    static let maxWorks = 10_000

    /// One candidate's trial, for explain.
    struct Outcome {
        var plan: IndexPlan
        var works = 0
        var advanced = 0
        var isEOF = false

        var document: Document {
            var d = plan.stage
            d.append("trial", [
                "works": .int64(Int64(works)), "nReturned": .int64(Int64(advanced)), "isEOF": .bool(isEOF),
            ])
            return d
        }
    }

    struct Report {
        var outcomes: [Outcome]
        var winner: Int
        var fromCache: Bool
    }

    /// The candidate (an index of `candidates`, which are in rule order) to run, and what the
    /// trial saw; nil when there is nothing to choose. The planner caches the winner
    /// (`PlanCache`).
    static func choose(_ candidates: [IndexPlan], filter: Filter, sort: SortSpec?, collection: Collection,
                       entry: CatalogEntry) throws -> Report? {
        guard candidates.count > 1 else { return nil }
        return try run(candidates, filter: filter, sorted: sort.map { !$0.isEmpty } ?? false, collection, entry)
    }

    private static func run(_ candidates: [IndexPlan], filter: Filter, sorted: Bool, _ collection: Collection,
                            _ entry: CatalogEntry) throws -> Report {
        let view = collection.storage.readView()
        let scans = candidates.map {
            IndexScan(plan: $0, view: view, documentPrefix: entry.documentPrefix, filter: filter)
        }
        var outcomes = candidates.map { Outcome(plan: $0) }
        var finished: Int?
        round: while true {
            var working = false
            for i in scans.indices where !outcomes[i].isEOF && outcomes[i].works < maxWorks {
                working = true
                let scan = scans[i]
                let before = scan.keysExamined
                scan.keyLimit = before + 1
                let got = try scan.next()
                outcomes[i].works = scan.keysExamined
                if got != nil {
                    // Results of a plan that needs a blocking sort count only at its end.
                    if !sorted || candidates[i].providesSort { outcomes[i].advanced += 1 }
                } else if scan.keysExamined == before {  // nil without examining a key: the end
                    outcomes[i].isEOF = true
                    outcomes[i].works += 1  // the work that found the end
                }
                if outcomes[i].isEOF || outcomes[i].advanced >= resultTarget {
                    finished = i
                    break round
                }
            }
            if !working { break }
        }
        let winner = finished ?? outcomes.indices.max { a, b in
            let pa = Double(outcomes[a].advanced) / Double(max(1, outcomes[a].works))
            let pb = Double(outcomes[b].advanced) / Double(max(1, outcomes[b].works))
            return pa < pb || (pa == pb && a > b)  // ties to the earlier (rule order)
        } ?? 0
        return Report(outcomes: outcomes, winner: winner, fromCache: false)
    }
}
