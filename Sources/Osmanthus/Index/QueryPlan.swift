import OsmanthusBSON

/// How a query is answered (SPEC.md §11.6): by the primary key (`Collection.Access`), or by
/// walking key intervals of one secondary index.
struct QueryPlan {
    enum Kind {
        case primary(Collection.Access)
        case index(IndexPlan)
    }

    var kind: Kind
    /// The plan returns documents in the requested sort order (no in-memory sort).
    var providesSort: Bool
    /// Candidates considered and not chosen, kept as plans: their explain stages are built only
    /// when explain asks (not on every query).
    var rejectedIndexes: [IndexPlan] = []
    var rejectedPrimary: Collection.Access?
    /// The trial run among several index candidates, when there was one (or its cached winner).
    var trial: TrialPlanner.Report?
    /// Set when the plan is a cached trial winner: the query checks it does not take far more
    /// works than the trial did (`IndexScan.prime`), else it is evicted and re-planned.
    var cacheCheck: CacheCheck?

    struct CacheCheck {
        var shape: [UInt8]
        var works: Int
    }

    /// Candidates considered and not chosen, for explain.
    var rejected: [Document] {
        rejectedIndexes.map(\.stage) + (rejectedPrimary.map { [QueryPlanner.primaryStage($0)] } ?? [])
    }
}

struct IndexPlan {
    var spec: IndexSpec
    var bounds: IndexBounds
    /// Walk the intervals from the last key down (a sort opposite to the index's directions).
    var backward: Bool
    /// The projection and filter need only the index's fields: no document is read.
    var covered: Bool
    var providesSort: Bool
    /// The intervals hold exactly the filter's matches (see `ExactBounds`): no residual filter
    /// per entry, and a count reads keys only.
    var exact = false

    /// Higher is better: equality fields count most, then a range, then giving the sort order,
    /// then a unique index whose every field is fixed (at most one document).
    var score: Int {
        var s = bounds.pointFields * 4 + (bounds.hasRange ? 2 : 0) + (providesSort ? 1 : 0)
        if spec.unique && bounds.singlePointFields == spec.fields.count { s += 100 }
        if covered { s += 1 }
        return s
    }

    var stage: Document {
        var ix: Document = [
            "stage": "IXSCAN", "keyPattern": .document(spec.keyPattern), "indexName": .string(spec.name),
            "isMultiKey": .bool(spec.multikey), "isUnique": .bool(spec.unique), "isSparse": .bool(spec.sparse),
            "isPartial": .bool(spec.partialFilterExpression != nil),
            "direction": .string(backward ? "backward" : "forward"), "indexBounds": .document(bounds.display),
        ]
        if covered {
            ix = ["stage": "PROJECTION_COVERED", "inputStage": .document(ix)]
            return ix
        }
        return ["stage": "FETCH", "inputStage": .document(ix)]
    }
}
