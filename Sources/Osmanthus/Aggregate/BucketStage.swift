import OsmanthusBSON

/// `$bucket`: `groupBy` values placed in `[boundaries[i], boundaries[i+1])`, the rest in the
/// `default` bucket (an error without one), accumulated by `output` (default: a count), and
/// sorted by bucket, as MongoDB's `$group` + `$sort` rewrite of it does.
struct BucketStage: Sendable {
    let group: GroupStage

    init(_ spec: BSONValue) throws {
        guard case .document(let fields) = spec else {
            throw OsmanthusError(.location(40201), "Argument to $bucket stage must be an object")
        }
        for key in fields.keys where !["groupBy", "boundaries", "default", "output"].contains(key) {
            throw OsmanthusError(.location(40197), "Unrecognized option to $bucket: \(key).")
        }
        guard let groupBy = fields["groupBy"], case .array(let boundaries)? = fields["boundaries"] else {
            throw OsmanthusError(.location(40198), "$bucket requires 'groupBy' and 'boundaries' to be specified.")
        }
        let isPathOrExpression = groupBy.stringValue?.hasPrefix("$") ?? (groupBy.documentValue != nil)
        guard isPathOrExpression else {
            throw OsmanthusError(.location(40202), "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression")
        }
        guard boundaries.count >= 2 else {
            throw OsmanthusError(.location(40192), "The $bucket 'boundaries' field must have at least 2 values")
        }
        for (a, b) in zip(boundaries, boundaries.dropFirst()) {
            guard a.type == b.type || (a.isNumber && b.isNumber) else {
                throw OsmanthusError(.location(40193), "All values in the 'boundaries' option to $bucket must have the same type.")
            }
            guard BSONValue.compare(a, b) < 0 else {
                throw OsmanthusError(.location(40194), "The 'boundaries' option to $bucket must be sorted in ascending order")
            }
        }
        let fallback = fields["default"]
        if let fallback, BSONValue.compare(fallback, boundaries[0]) >= 0,
            BSONValue.compare(fallback, boundaries[boundaries.count - 1]) < 0
        {
            throw OsmanthusError(
                .location(40199), "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.")
        }
        var accumulators = [Accumulator]()
        if let output = fields["output"] {
            guard case .document(let outputs) = output else {
                throw OsmanthusError(.location(40196), "The $bucket 'output' field must be an object")
            }
            accumulators = try outputs.map { try Accumulator(field: $0.key, spec: $0.value) }
        } else {
            accumulators = [try Accumulator(field: "count", spec: ["$sum": .int32(1)])]
        }
        let expression = try Expression(groupBy)
        group = GroupStage(name: "$bucket", key: { scope in
            let value = try expression.evaluate(in: scope) ?? .null
            // The last boundary at or below the value, if the value is below the top boundary.
            var low = 0
            var high = boundaries.count - 1
            if BSONValue.compare(value, boundaries[0]) >= 0, BSONValue.compare(value, boundaries[high]) < 0,
                value.type == boundaries[0].type || (value.isNumber && boundaries[0].isNumber)
            {
                while high - low > 1 {
                    let mid = (low + high) / 2
                    if BSONValue.compare(value, boundaries[mid]) >= 0 { low = mid } else { high = mid }
                }
                return boundaries[low]
            }
            guard let fallback else {
                throw OsmanthusError(
                    .location(40066),
                    "$switch could not find a matching branch for an input, and no default was specified. ($bucket value \(value) is outside the boundaries)")
            }
            return fallback
        }, accumulators: accumulators)
    }

    func run(_ input: DocumentStream, _ context: PipelineContext) throws -> [Document] {
        try group.run(input, context).sorted { BSONValue.compare($0["_id"] ?? .null, $1["_id"] ?? .null) < 0 }
    }
}
