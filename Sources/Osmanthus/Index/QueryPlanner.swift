import OsmanthusBSON

/// Chooses how to answer a filter (with an optional sort and projection), by rules, then among
/// several index candidates by a trial run (`TrialPlanner`; SPEC.md §11.6), the choice cached
/// per query shape (`PlanCache`):
/// 1. equality on `_id` (or on the partition and sort key): one point read (IDHACK);
/// 2. otherwise each ready secondary index that the filter bounds, or whose order gives the
///    sort, is a candidate scored by its equality fields, then a range, then sort order; the
///    primary-key prefix or `_id` range competes as one equality field or one range;
/// 3. nothing usable: a collection scan.
/// A hint names the index to use (or `{$natural: 1}` for a scan).
struct QueryPlanner {
    let entry: CatalogEntry
    let indexes: [IndexSpec]
    /// Reuse the plan cache's choice for the query's shape, and cache new choices (explain plans
    /// afresh).
    var usePlanCache = true

    func plan(_ filter: Filter, sort: SortSpec?, projection: Document?, hint: BSONValue?, collection: Collection)
        throws -> QueryPlan
    {
        let primary = collection.access(filter, entry)
        if hint == nil, case .point = primary { return QueryPlan(kind: .primary(primary), providesSort: false) }
        if hint == nil && indexes.isEmpty { return QueryPlan(kind: .primary(primary), providesSort: false) }
        if let hint {
            return try hinted(hint, filter, FieldCondition.extract(filter), sort, projection, primary)
        }
        let cache = collection.database.planCache
        let shape = usePlanCache ? PlanCache.shape(filter.spec, sort: sort, projection: projection) : []
        if usePlanCache, let cached = cache.entry(collection: entry.id, shape: shape, indexes: indexes),
            let plan = boundPlan(cached, shape, filter, sort, projection)
        {
            return plan
        }
        let conditions = FieldCondition.extract(filter)
        var candidates = indexes.compactMap { candidate($0, filter, conditions, sort, projection, forced: false) }
        candidates.sort { $0.score > $1.score }
        let primaryScore: Int
        switch primary {
        case .prefix: primaryScore = 4
        case .range: primaryScore = 2
        default: primaryScore = 0
        }
        guard let best = candidates.first, best.score > primaryScore else {
            return QueryPlan(kind: .primary(primary), providesSort: false, rejectedIndexes: candidates)
        }
        var plan = QueryPlan(kind: .index(best), providesSort: best.providesSort,
                             rejectedIndexes: Array(candidates.dropFirst()),
                             rejectedPrimary: primaryScore > 0 ? primary : nil)
        var cached = PlanCache.Entry(index: best.spec.name)
        let contenders = candidates.filter { $0.score > primaryScore }
        if let report = try TrialPlanner.choose(contenders, filter: filter, sort: sort, collection: collection,
                                                entry: entry) {
            let won = contenders[report.winner]
            plan.kind = .index(won)
            plan.providesSort = won.providesSort
            plan.rejectedIndexes = candidates.filter { $0.spec.name != won.spec.name }
            plan.trial = report
            cached = PlanCache.Entry(index: won.spec.name, works: report.outcomes[report.winner].works)
        }
        if case .index(let chosen) = plan.kind, chosen.spec.partialFilterExpression == nil,
            Self.valueIndependent(filter.root)
        {
            cached.derived = PlanCache.Derived(
                multikey: chosen.spec.multikey, covered: chosen.covered, providesSort: chosen.providesSort,
                backward: chosen.backward, exact: chosen.exact)
        }
        if usePlanCache { cache.store(collection: entry.id, shape: shape, indexes: indexes, entry: cached) }
        return plan
    }

    /// The cached index's plan with this query's values bound in, or nil when that index cannot
    /// answer them (a partial index the values do not imply, bounds that would scan everything).
    private func boundPlan(_ cached: PlanCache.Entry, _ shape: [UInt8], _ filter: Filter, _ sort: SortSpec?,
                           _ projection: Document?) -> QueryPlan? {
        guard let spec = indexes.first(where: { $0.name == cached.index }) else { return nil }
        let p: IndexPlan
        if let d = cached.derived, d.multikey == spec.multikey {
            // The shape decided everything but the bounds.
            let bounds = IndexBounds(spec: spec, fieldConditions: FieldCondition.extract(filter, for: spec.fields))
            let bounded = bounds.pointFields > 0 || bounds.hasRange
            if spec.sparse && !bounded { return nil }
            guard bounded || d.providesSort else { return nil }
            p = IndexPlan(spec: spec, bounds: bounds, backward: d.backward, covered: d.covered,
                          providesSort: d.providesSort, exact: d.exact)
        } else {
            guard let fresh = candidate(spec, filter, FieldCondition.extract(filter), sort, projection, forced: false)
            else { return nil }
            p = fresh
        }
        var plan = QueryPlan(kind: .index(p), providesSort: p.providesSort)
        if let works = cached.works {
            plan.trial = TrialPlanner.Report(outcomes: [TrialPlanner.Outcome(plan: p)], winner: 0, fromCache: true)
            plan.cacheCheck = QueryPlan.CacheCheck(shape: shape, works: works)
        }
        return plan
    }

    private func hinted(_ hint: BSONValue, _ filter: Filter, _ conditions: [String: FieldCondition], _ sort: SortSpec?,
                        _ projection: Document?, _ primary: Collection.Access) throws -> QueryPlan {
        if case .document(let d) = hint, d.keys.first == "$natural" || d == ["_id": .int32(1)] {
            return QueryPlan(kind: .primary(d.keys.first == "$natural" ? .scan(entry.documentPrefix) : primary),
                             providesSort: false)
        }
        if hint == .string("_id_") { return QueryPlan(kind: .primary(primary), providesSort: false) }
        let spec = indexes.first { spec in
            switch hint {
            case .string(let name): spec.name == name
            case .document(let keys): spec.keyPattern.bytes == keys.bytes
                || spec.fields == (try? IndexSpec(keys: keys, options: IndexOptions()))?.fields
            default: false
            }
        }
        guard let spec, let plan = candidate(spec, filter, conditions, sort, projection, forced: true) else {
            throw OsmanthusError(.badValue, "error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index")
        }
        return QueryPlan(kind: .index(plan), providesSort: plan.providesSort)
    }

    /// The plan of one index, or nil when it cannot answer the query (or, unless `forced`,
    /// would only scan everything).
    func candidate(_ spec: IndexSpec, _ filter: Filter, _ conditions: [String: FieldCondition], _ sort: SortSpec?,
                   _ projection: Document?, forced: Bool) -> IndexPlan? {
        // An index whose first field the filter leaves free and the sort does not start with
        // can neither bound the scan nor give the order: skip building its bounds.
        if !forced, let first = spec.fields.first, conditions[first.path] == nil,
            sort?.keys.first.map({ $0.path.joined(separator: ".") != first.path }) ?? true
        {
            return nil
        }
        // Paths with numeric components match array positions, which entries do not record.
        if spec.fields.contains(where: { Self.hasNumericComponent($0.path) }) { return nil }
        let bounds = IndexBounds(spec: spec, conditions: conditions)
        let bounded = bounds.pointFields > 0 || bounds.hasRange
        // A sparse or partial index lacks some documents: only bounds that those documents cannot
        // match (non-null values), and a partial filter the query implies, make it usable.
        if spec.sparse && !bounded { return nil }
        if let partial = spec.partialFilterExpression, !(bounded && Self.implies(filter, partial, conditions)) {
            return nil
        }
        let (sorts, backward) = providesSort(spec, bounds, conditions, sort)
        guard bounded || sorts || forced else { return nil }
        let covered = Self.covers(spec, filter, projection)
        return IndexPlan(spec: spec, bounds: bounds, backward: backward, covered: covered, providesSort: sorts,
                         exact: ExactBounds.isExact(filter, spec: spec, bounds: bounds))
    }

    /// Whether the plan of an index for this filter (its covering, sort order, direction and
    /// exactness; `PlanCache.Derived`) is decided by the filter's shape alone (`PlanCache.shape`:
    /// paths, operators, value types). Not so for `$in` (its values' count and kinds decide the
    /// points), Decimal128 (a NaN is no point and no bound, and the shape does not mark it), arrays and
    /// expressions.
    static func valueIndependent(_ node: MatchNode) -> Bool {
        switch node {
        case .and(let c), .or(let c), .nor(let c): return c.allSatisfy(valueIndependent)
        case .not(let c): return valueIndependent(c)
        case .constant: return true
        case .expr: return false
        case .leaf(_, _, let predicate):
            switch predicate {
            case .in: return false
            case .compare(_, let v):
                switch v {
                case .decimal128, .array, .document: return false
                default: return true
                }
            default: return true
            }
        }
    }

    /// Whether a dotted path has a component made only of digits (`a.0.b`), read in place: this
    /// runs for every candidate index of every query.
    static func hasNumericComponent(_ path: String) -> Bool {
        var digitsOnly = true
        var empty = true
        for byte in path.utf8 {
            if byte == UInt8(ascii: ".") {
                if digitsOnly && !empty { return true }
                digitsOnly = true
                empty = true
            } else {
                empty = false
                if byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") { digitsOnly = false }
            }
        }
        return digitsOnly && !empty
    }

    /// Whether walking `bounds` gives `sort`'s order, and in which direction.
    func providesSort(_ spec: IndexSpec, _ bounds: IndexBounds, _ conditions: [String: FieldCondition], _ sort: SortSpec?)
        -> (Bool, Bool)
    {
        guard let sort, !sort.isEmpty, !spec.multikey else { return (false, false) }
        let fixed = Set(spec.fields.prefix(bounds.singlePointFields).map(\.path))
        let keys = sort.keys.filter { !fixed.contains($0.path.joined(separator: ".")) }
        if keys.isEmpty { return (true, false) }
        let rest = spec.fields.dropFirst(bounds.singlePointFields)
        guard keys.count <= rest.count else { return (false, false) }
        var direction: Bool?
        for (k, f) in zip(keys, rest) {
            guard k.path.joined(separator: ".") == f.path else { return (false, false) }
            let same = k.ascending == f.ascending
            if let d = direction, d != same { return (false, false) }
            direction = same
        }
        return (true, direction == false)
    }

    /// Every top-level condition of the partial filter is in the query (same value), or is
    /// satisfied by each of the query's equality values on that field.
    static func implies(_ filter: Filter, _ partial: Document, _ conditions: [String: FieldCondition]) -> Bool {
        for (field, cond) in partial {
            if let same = filter.spec[field], KeyEncoder.encode(same) == KeyEncoder.encode(cond) { continue }
            guard !field.contains("."), let points = conditions[field]?.points,
                let check = try? Filter([field: cond]),
                points.allSatisfy({ check.matches([field: $0]) })
            else { return false }
        }
        return true
    }

    /// A covered query: a plain inclusion projection and a filter that name only indexed
    /// fields (and `_id` excluded unless indexed), on an index that is not multikey.
    static func covers(_ spec: IndexSpec, _ filter: Filter, _ projection: Document?) -> Bool {
        guard let projection, !spec.multikey, !projection.isEmpty else { return false }
        let paths = Set(spec.fields.map(\.path))
        var idIncluded = true
        for (k, v) in projection {
            let truthy: Bool
            switch v {
            case .bool(let b): truthy = b
            case let n where n.isNumber: truthy = n.numericDouble != 0
            default: return false
            }
            if k == "_id" {
                idIncluded = truthy
                continue
            }
            guard truthy, paths.contains(k) else { return false }
        }
        if idIncluded && !paths.contains("_id") { return false }
        guard let filterPaths = leafPaths(filter.root) else { return false }
        return filterPaths.allSatisfy(paths.contains)
    }

    /// Paths the filter reads; nil if it evaluates expressions.
    static func leafPaths(_ node: MatchNode) -> [String]? {
        switch node {
        case .and(let c), .or(let c), .nor(let c):
            var out: [String] = []
            for child in c {
                guard let p = leafPaths(child) else { return nil }
                out += p
            }
            return out
        case .not(let c): return leafPaths(c)
        case .constant: return []
        case .leaf(let path, _, _): return [path.joined(separator: ".")]
        case .expr: return nil
        }
    }

    static func primaryStage(_ access: Collection.Access) -> Document {
        switch access {
        case .point: ["stage": "IDHACK"]
        case .prefix: ["stage": "FETCH", "inputStage": ["stage": "PARTITION_SCAN"]]
        case .range: ["stage": "FETCH", "inputStage": ["stage": "IXSCAN", "keyPattern": ["_id": .int32(1)], "indexName": "_id_"]]
        case .scan: ["stage": "COLLSCAN"]
        }
    }
}
