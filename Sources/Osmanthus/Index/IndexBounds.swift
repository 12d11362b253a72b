import OsmanthusBSON
import OsmanthusStorage

/// What a filter says about one field, as far as an index can use it: equality with one of a
/// set of values, or a range within one type bracket. Every condition kept here is implied by
/// the filter on its own, so the keys it selects contain every match (the filter is re-checked
/// on each document; bounds only have to be a superset).
struct FieldCondition {
    /// Equality with any of these (`$eq`, `$in`).
    var points: [BSONValue]?
    /// Lower bound: encoded value (or bracket start), inclusive of the bytes.
    var lower: [UInt8]?
    /// Upper bound: encoded value (or bracket end) and whether keys starting with it are in.
    var upper: (bytes: [UInt8], inclusive: Bool)?
    var rank: UInt8?
    /// Both bounds come from different conditions (a multikey index may not intersect them).
    var boundCount = 0
    /// The range conditions as written, for explain (formatted only when asked).
    var rangeConditions: [(ComparisonOperator, BSONValue)] = []

    var display: [String] {
        rangeConditions.map { op, v in
            switch op {
            case .gt, .gte: "\(op == .gt ? "(" : "[")\(v)"
            default: "\(v)\(op == .lt ? ")" : "]")"
            }
        }
    }

    /// The conditions of `filter`'s top-level `$and` on plain paths.
    static func extract(_ filter: Filter) -> [String: FieldCondition] {
        var out: [String: FieldCondition] = [:]
        forEachTopLevelCondition(filter) { path, predicate in
            let key = path.joined(separator: ".")
            var c = out[key] ?? FieldCondition()
            c.add(predicate)
            out[key] = c
        }
        return out
    }

    /// The conditions of `filter`'s top-level `$and` on each of `fields`' paths, in their order
    /// (nil: none): what `extract(filter)[field.path]` gives, without building the dictionary
    /// (a cached plan binds only its index's fields).
    static func extract(_ filter: Filter, for fields: [IndexSpec.Field]) -> [FieldCondition?] {
        var out: [FieldCondition?] = []
        out.reserveCapacity(fields.count)
        for _ in fields { out.append(nil) }
        forEachTopLevelCondition(filter) { path, predicate in
            // One component: compared as is; a dotted path is joined (rare) as `extract` does.
            let joined = path.count == 1 ? path[0] : path.joined(separator: ".")
            for i in fields.indices where fields[i].path == joined {
                var c = out[i] ?? FieldCondition()
                c.add(predicate)
                out[i] = c
            }
        }
        return out
    }

    /// Calls `body` with each plain-path leaf of `filter`'s top-level `$and` (a one-branch `$or`
    /// counts as its branch): the conditions an index may bound.
    private static func forEachTopLevelCondition(
        _ filter: Filter, _ body: (_ path: [String], _ predicate: LeafPredicate) -> Void
    ) {
        func visit(_ node: MatchNode) {
            switch node {
            case .and(let children): children.forEach(visit)
            case .or(let children) where children.count == 1: visit(children[0])
            case .leaf(let path, .traverse, let predicate) where !path.isEmpty: body(path, predicate)
            default: break
            }
        }
        visit(filter.root)
    }

    /// Values an index lookup may use: not null/undefined (they also match missing fields and
    /// empty arrays, which are indexed differently), not arrays or regexes (they match more
    /// than one stored value).
    static func pointable(_ v: BSONValue) -> Bool {
        switch v {
        case .null, .undefined, .array, .regex: false
        case .double(let d): !d.isNaN
        case .decimal128(let d): !d.isNaN
        default: true
        }
    }

    mutating func add(_ predicate: LeafPredicate) {
        switch predicate {
        case .compare(.eq, let v) where Self.pointable(v):
            if points == nil { points = [v] }
        case .in(let set) where set.regexes.isEmpty && !set.values.isEmpty && set.values.allSatisfy(Self.pointable):
            if points == nil { points = set.values }
        case .compare(let op, let v) where op != .eq && Collection.rangeable(v):
            let enc = KeyEncoder.encode(v)
            if let r = rank, r != enc[0] { return }
            rank = enc[0]
            boundCount += 1
            switch op {
            case .gt, .gte:
                if lower.map({ compareBytes($0, enc) < 0 }) ?? true { lower = enc }
                rangeConditions.append((op, v))
            case .lt, .lte:
                // `$lt` keeps the value's own keys too: a Decimal128 just below it is placed at
                // the value's nearest double, the same key (the filter drops the equal ones).
                upper = (enc, true)
                rangeConditions.append((op, v))
            case .eq: break
            }
        default: break
        }
    }

    var hasRange: Bool { rank != nil }

    /// `[lo, hi)` over the field's ascending encoding; one-sided bounds end at the bracket's
    /// edge. `intersect`: both bounds (false for a multikey index: only the lower one, or the
    /// upper one if there is no lower).
    func rangeBytes(intersect: Bool) -> (lo: [UInt8], hi: (bytes: [UInt8], inclusive: Bool))? {
        guard let rank else { return nil }
        var lo = lower
        var hi = upper
        if !intersect && lo != nil && hi != nil { hi = nil }
        if lo == nil { lo = [rank] }
        return (lo ?? [rank], hi ?? ([rank &+ 1], false))
    }
}

/// Key intervals of one index for one filter: the product of the equality values of its leading
/// fields, then a range on the next field (SPEC.md §11.6).
struct IndexBounds {
    var intervals: [(start: [UInt8], end: [UInt8])]
    /// Leading fields fixed to exactly one value (usable for sort order after them).
    var singlePointFields: Int
    /// Leading fields constrained by equality or `$in`.
    var pointFields: Int
    var hasRange: Bool
    /// What explain shows is worked out from these only when asked (not on every query): the
    /// first `pointFields` fields took their points, the next one (if `hasRange`) its range.
    private let fields: [IndexSpec.Field]
    /// The condition on each of `fields` (nil: none).
    private let conditions: [FieldCondition?]

    /// MongoDB's explain shape: field → ["[1, 1]", ...].
    var display: Document {
        var d = Document()
        for (i, f) in fields.enumerated() {
            if i < pointFields, let p = conditions[i]?.points {
                d.append(f.path, .array(p.map { .string("[\($0), \($0)]") }))
            } else if i == pointFields, hasRange, let c = conditions[i] {
                d.append(f.path, .array([.string(c.display.joined(separator: ", "))]))
            } else {
                d.append(f.path, .array([.string("[MinKey, MaxKey]")]))
            }
        }
        return d
    }

    static let maxIntervals = 1000

    init(spec: IndexSpec, conditions: [String: FieldCondition]) {
        self.init(spec: spec, fieldConditions: spec.fields.map { conditions[$0.path] })
    }

    /// `fieldConditions[i]`: the condition on `spec.fields[i]` (`FieldCondition.extract(_:for:)`).
    init(spec: IndexSpec, fieldConditions: [FieldCondition?]) {
        let conditions = fieldConditions
        // The one prefix while every point field so far has one value (the usual equality),
        // built in one buffer; `prefixes` takes over once a field has several.
        var one = KeyEncoder(entryPrefixOf: spec.collectionId, indexId: spec.id)
        var prefixes: [[UInt8]]?
        var single = 0
        var points = 0
        var countingSingle = true
        var range: (Int, (lo: [UInt8], hi: (bytes: [UInt8], inclusive: Bool)))?
        var boundRoots: Set<Substring> = []
        for (i, field) in spec.fields.enumerated() {
            let c = conditions[i]
            // Multikey: fields sharing a first path component may reach one array, whose entries
            // pair values of one element; the conditions may hold in different elements, so only
            // the first such field is bounded (SPEC.md §11.6).
            if spec.multikey && c != nil
                && !boundRoots.insert(field.path.split(separator: ".", maxSplits: 1)[0]).inserted
            {
                break
            }
            if let p = c?.points, (prefixes?.count ?? 1) * p.count <= Self.maxIntervals {
                if p.count == 1 && prefixes == nil {
                    if field.ascending { one.append(p[0]) } else { one.appendComplemented(p[0]) }
                } else {
                    let encs = p.map { KeyEncoder.encode($0) }.map { field.ascending ? $0 : IndexFormat.complement($0) }
                    prefixes = (prefixes ?? [one.bytes]).flatMap { pre in encs.map { pre + $0 } }
                }
                points += 1
                if p.count == 1 && countingSingle { single += 1 } else { countingSingle = false }
                continue
            }
            if let c, let r = c.rangeBytes(intersect: !spec.multikey) {
                range = (i, r)
            }
            break
        }
        var intervals: [(start: [UInt8], end: [UInt8])] = []
        for pre in prefixes ?? [one.bytes] {
            if let (i, r) = range {
                if spec.fields[i].ascending {
                    let end = r.hi.inclusive ? IndexFormat.prefixEnd(pre + r.hi.bytes) : pre + r.hi.bytes
                    intervals.append((pre + r.lo, end))
                } else {
                    intervals.append((pre + IndexFormat.complement(r.hi.bytes),
                                      IndexFormat.prefixEnd(pre + IndexFormat.complement(r.lo))))
                }
            } else {
                intervals.append((pre, IndexFormat.prefixEnd(pre)))
            }
        }
        if intervals.count > 1 {
            intervals.sort { compareBytes($0.start, $1.start) < 0 }
            var merged: [(start: [UInt8], end: [UInt8])] = []
            for iv in intervals {
                if let last = merged.last, compareBytes(iv.start, last.end) < 0 {
                    if compareBytes(iv.end, last.end) > 0 { merged[merged.count - 1].end = iv.end }
                } else {
                    merged.append(iv)
                }
            }
            intervals = merged
        }
        self.intervals = intervals
        singlePointFields = single
        pointFields = points
        hasRange = range != nil
        fields = spec.fields
        self.conditions = conditions
    }
}
