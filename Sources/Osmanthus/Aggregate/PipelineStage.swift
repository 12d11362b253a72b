import OsmanthusBSON

/// One parsed stage of an aggregation pipeline. Parsing checks everything that can be checked
/// before reading a document: stage names (Location40324), shapes, expressions (parsed once
/// into trees), accumulators (Location15952).
enum PipelineStage: Sendable {
    case match(Filter)
    /// `$project`, `$addFields`/`$set`, `$unset`, `$replaceRoot`/`$replaceWith`.
    case reshape(UpdatePipeline)
    case group(GroupStage)
    case bucket(BucketStage)
    case sort(SortStage)
    case limit(Int)
    case skip(Int)
    case unwind(UnwindStage)
    case count(String)
    case lookup(LookupStage)
    case facet([(name: String, pipeline: Pipeline)])
    case sample(Int)
    case out(OutStage)
    /// `$documents`: the documents of an expression (an array of documents) replace the input;
    /// first stage only, in a database-level aggregate.
    case documents(Expression)

    static let names: Set<String> = [
        "$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith", "$group", "$sort",
        "$limit", "$skip", "$unwind", "$count", "$lookup", "$facet", "$sortByCount", "$sample", "$bucket", "$out",
        "$documents",
    ]

    /// The stage name and argument of `{<$name>: <argument>}`.
    static func split(_ spec: Document) throws -> (String, BSONValue) {
        guard spec.count == 1, let name = spec.keys.first, let argument = spec[name] else {
            throw OsmanthusError(
                .location40323, "A pipeline stage specification object must contain exactly one field.")
        }
        return (name, argument)
    }

    /// Parses one stage specification; `$sortByCount` expands to two stages.
    static func parse(_ spec: Document) throws -> [PipelineStage] {
        let (name, argument) = try split(spec)
        switch name {
        case "$match":
            guard case .document(let filter) = argument else {
                throw OsmanthusError(.location(15959), "the match filter must be an expression in an object")
            }
            return [.match(try Filter(filter))]
        case "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith":
            if name == "$addFields" || name == "$set", case .document(let fields) = argument, fields.isEmpty {
                return []  // an empty $addFields changes nothing
            }
            return [.reshape(try UpdatePipeline([spec]))]
        case "$group":
            return [.group(try GroupStage(argument))]
        case "$bucket":
            return [.bucket(try BucketStage(argument))]
        case "$sortByCount":
            if case .document(let body) = argument, body.keys.first?.hasPrefix("$") != true {
                throw OsmanthusError(.location(40147), "the sortByCount field must be defined as a $-prefixed path or an expression")
            } else if case .string(let path) = argument, !path.hasPrefix("$") {
                throw OsmanthusError(.location(40148), "the sortByCount field must be defined as a $-prefixed path or an expression")
            } else if !(argument.stringValue != nil || argument.documentValue != nil) {
                throw OsmanthusError(.location(40149), "the sortByCount field must be specified as a string or as an object")
            }
            let group = try GroupStage(.document(["_id": argument, "count": ["$sum": .int32(1)]]))
            return [.group(group), .sort(try SortStage(.document(["count": .int32(-1)])))]
        case "$sort":
            return [.sort(try SortStage(argument))]
        case "$limit":
            guard argument.isNumber, let n = argument.exactInt64 else {
                throw OsmanthusError(.location(15957), "the limit must be specified as a number")
            }
            guard n > 0 else { throw OsmanthusError(.location(15958), "the limit must be positive") }
            return [.limit(Int(clamping: n))]
        case "$skip":
            guard argument.isNumber, let n = argument.exactInt64 else {
                throw OsmanthusError(.location(15972), "Argument to $skip must be a number")
            }
            guard n >= 0 else { throw OsmanthusError(.location(15956), "Argument to $skip cannot be negative") }
            return n == 0 ? [] : [.skip(Int(clamping: n))]
        case "$unwind":
            return [.unwind(try UnwindStage(argument))]
        case "$count":
            guard case .string(let field) = argument else {
                throw OsmanthusError(.location(40156), "the count field must be a non-empty string")
            }
            guard !field.isEmpty else { throw OsmanthusError(.location(40157), "the count field must be a non-empty string") }
            guard !field.hasPrefix("$") else { throw OsmanthusError(.location(40158), "the count field cannot be a $-prefixed path") }
            guard !field.contains(".") else { throw OsmanthusError(.location(40160), "the count field cannot contain '.'") }
            return [.count(field)]
        case "$lookup":
            return [.lookup(try LookupStage(argument))]
        case "$facet":
            return [try parseFacet(argument)]
        case "$sample":
            guard case .document(let options) = argument, let size = options["size"] else {
                throw OsmanthusError(.location(28745), "$sample stage must specify a size")
            }
            guard size.isNumber, let n = size.exactInt64, n >= 0 else {
                throw OsmanthusError(.location(28747), "size argument to $sample must not be negative")
            }
            return [.sample(Int(clamping: n))]
        case "$out":
            return [.out(try OutStage(argument))]
        case "$documents":
            return [.documents(try Expression(argument))]
        default:
            throw OsmanthusError(.location40324, "Unrecognized pipeline stage name: '\(name)'")
        }
    }

    private static func parseFacet(_ argument: BSONValue) throws -> PipelineStage {
        guard case .document(let facets) = argument, !facets.isEmpty else {
            throw OsmanthusError(.location(15947), "the $facet specification must be a non-empty object")
        }
        var parsed = [(name: String, pipeline: Pipeline)]()
        for (name, value) in facets {
            try Expression.validateFieldName(name)
            guard case .array(let stages) = value else {
                throw OsmanthusError(.location(40170), "arguments to $facet must be arrays, \(name) is type \(value.type.name)")
            }
            let specs = try stages.map { stage -> Document in
                guard case .document(let spec) = stage else {
                    throw OsmanthusError(.location(40171), "elements of arrays in $facet spec must be non-empty objects, \(name) argument contained an element of type \(stage.type.name)")
                }
                let (stageName, _) = try split(spec)
                if ["$out", "$facet"].contains(stageName) {
                    throw OsmanthusError(.location(40600), "\(stageName) is not allowed to be used within a $facet stage")
                }
                return spec
            }
            parsed.append((name, try Pipeline(specs)))
        }
        return .facet(parsed)
    }
}
