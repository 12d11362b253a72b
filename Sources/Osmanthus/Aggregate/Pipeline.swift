import OsmanthusBSON

/// A parsed aggregation pipeline (SPEC.md §12.7).
///
/// Its leading `$match` stages, a `$sort` among them, and a `$skip`/`$limit` right after that
/// sort, are pushed into `Collection.find` (the "pushdown"), so whatever the query planner
/// does for a find (indexes, key ranges, the primary key) serves the pipeline too. A `$sort`
/// later in the pipeline that is followed by `$limit` (or `$skip` + `$limit`) keeps only a
/// bounded top-k.
struct Pipeline: Sendable {
    struct Pushdown: Sendable {
        var filter = Document()
        var sort: Document?
        var skip = 0
        var limit = 0
        /// How many of `stages` the find replaces when reading a collection.
        var stageCount = 0
    }

    let specs: [Document]
    let stages: [PipelineStage]
    let pushdown: Pushdown

    init(_ specs: [Document]) throws {
        self.specs = specs
        var stages = [PipelineStage]()
        for (index, spec) in specs.enumerated() {
            let parsed = try PipelineStage.parse(spec)
            if case .out? = parsed.first, index != specs.count - 1 {
                throw OsmanthusError(.location40601, "$out can only be the final stage in the pipeline")
            }
            if case .documents? = parsed.first, index != 0 {
                throw OsmanthusError(.location(40602), "$documents is only valid as the first stage in a pipeline")
            }
            stages += parsed
        }
        self.stages = Pipeline.foldLimitsIntoSorts(stages)
        pushdown = Pipeline.pushdown(specs)
    }

    /// `$sort` directly followed by `$limit` k (or `$skip` s then `$limit` k) only needs its
    /// first k (s + k) documents.
    private static func foldLimitsIntoSorts(_ stages: [PipelineStage]) -> [PipelineStage] {
        var result = stages
        for index in result.indices {
            guard case .sort(var sort) = result[index] else { continue }
            var skipped = 0
            var next = index + 1
            if next < result.count, case .skip(let s) = result[next] {
                skipped = s
                next += 1
            }
            if next < result.count, case .limit(let k) = result[next] {
                let (total, overflow) = skipped.addingReportingOverflow(k)
                sort.limit = overflow ? nil : total
                result[index] = .sort(sort)
            }
        }
        return result
    }

    /// The find that replaces the pipeline's leading `$match`/`$sort`(/`$skip`/`$limit`).
    private static func pushdown(_ specs: [Document]) -> Pushdown {
        var pushdown = Pushdown()
        var matches = [BSONValue]()
        var index = 0
        var stageCount = 0
        func name(_ i: Int) -> String? { i < specs.count ? specs[i].keys.first : nil }
        while let stage = name(index) {
            if stage == "$match", case .document(let filter)? = specs[index]["$match"] {
                if !filter.isEmpty { matches.append(.document(filter)) }
            } else if stage == "$sort", pushdown.sort == nil, case .document(let sort)? = specs[index]["$sort"] {
                pushdown.sort = sort
            } else {
                break
            }
            index += 1
            stageCount += 1
        }
        // $skip/$limit pushed only after the matches and sort, where the find applies them.
        if name(index) == "$skip", let s = specs[index]["$skip"]?.exactInt64, s >= 0 {
            pushdown.skip = Int(clamping: s)
            index += 1
            stageCount += 1
        }
        if name(index) == "$limit", let k = specs[index]["$limit"]?.exactInt64, k > 0 {
            pushdown.limit = Int(clamping: k)
            stageCount += 1
        }
        pushdown.filter = matches.count == 1 ? (matches[0].documentValue ?? Document()) : matches.isEmpty ? Document() : ["$and": .array(matches)]
        pushdown.stageCount = stageCount
        return pushdown
    }

    /// Number of parsed stages the pushdown replaces (`$skip: 0` and empty `$addFields` parse
    /// to nothing, `$sortByCount` to two; the pushdown covers only `$match`/`$sort`/`$skip`/
    /// `$limit`, which parse one to one, except a zero skip).
    var pushedStageCount: Int {
        var count = 0
        for spec in specs.prefix(pushdown.stageCount) {
            if spec.keys.first == "$skip", spec["$skip"]?.exactInt64 == 0 { continue }
            count += 1
        }
        return count
    }

    /// Runs the pipeline over a collection: the pushdown as a find, then the other stages.
    func stream(over collection: Collection, _ context: PipelineContext) throws -> DocumentStream {
        var options = FindOptions(sort: pushdown.sort, skip: pushdown.skip, limit: pushdown.limit)
        options.memoryLimit = context.options.memoryLimit
        let cursor = try collection.find(pushdown.filter, options: options)
        return try stream(DocumentStream(cursor), context, from: pushedStageCount)
    }

    /// Runs the stages (from `start`) over documents already in hand.
    func stream(_ input: DocumentStream, _ context: PipelineContext, from start: Int = 0) throws -> DocumentStream {
        var stream = input
        for stage in stages[start...] { stream = try stage.stream(stream, context) }
        return stream
    }

    /// What `explain` shows: the find the pipeline starts with and the stages after it.
    func explain(namespace: String) -> Document {
        var find: Document = ["namespace": .string(namespace), "filter": .document(pushdown.filter)]
        if let sort = pushdown.sort { find.append("sort", .document(sort)) }
        if pushdown.skip > 0 { find.append("skip", .int64(Int64(pushdown.skip))) }
        if pushdown.limit > 0 { find.append("limit", .int64(Int64(pushdown.limit))) }
        let rest = specs.dropFirst(pushdown.stageCount).map { BSONValue.document($0) }
        return ["stages": .array([.document(["$cursor": .document(find)])] + rest)]
    }

    /// The pipeline reads no collection: it starts with `$documents`.
    var isCollectionless: Bool {
        if case .documents? = stages.first { return true }
        return false
    }

    var writesOutput: Bool {
        if case .out? = stages.last { return true }
        return false
    }
}
