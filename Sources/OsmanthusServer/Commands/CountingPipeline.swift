import Osmanthus
import OsmanthusBSON

/// The aggregation pipelines the server runs until the aggregation framework lands: a
/// find in stage form — `$match`, `$sort`, `$skip`, `$limit`, `$project`, in that order,
/// each at most once except `$match`, which may repeat and may follow `$sort` — optionally ended by a count, either `{$count: "field"}` or a
/// `$group` on a constant `_id` whose fields are all `{$sum: <number>}` (pymongo's
/// `count_documents` sends `[{$match}, {$skip}, {$limit}, {$group: {_id: 1, n: {$sum: 1}}}]`).
struct CountingPipeline {
    /// What a count stage outputs: one document, or none when nothing was counted.
    enum Output {
        case count(field: String)
        case group(id: BSONValue, sums: [(field: String, multiplier: BSONValue)])

        func documents(count n: Int) -> [Document] {
            switch self {
            case .count(let field):
                return n == 0 ? [] : [[field: QueryCommands.integer(n)]]
            case .group(let id, let sums):
                guard n > 0 else { return [] }
                var document: Document = ["_id": id]
                for (field, multiplier) in sums {
                    document.append(field, Self.multiply(n, by: multiplier))
                }
                return [document]
            }
        }

        private static func multiply(_ n: Int, by multiplier: BSONValue) -> BSONValue {
            switch multiplier {
            case .int32(let m):
                let (product, overflow) = Int64(n).multipliedReportingOverflow(by: Int64(m))
                return overflow ? .double(Double(n) * Double(m)) : QueryCommands.integer(Int(product))
            case .int64(let m):
                let (product, overflow) = Int64(n).multipliedReportingOverflow(by: m)
                return overflow ? .double(Double(n) * Double(m)) : .int64(product)
            default:
                return .double(Double(n) * (multiplier.numericDouble ?? 0))
            }
        }
    }

    private(set) var filter = Document()
    private(set) var options = FindOptions()
    private(set) var output: Output?

    private static let order = ["$match", "$sort", "$skip", "$limit", "$project"]
    /// `position` once only $match and $sort stages have been seen.
    private static let afterSort = 2

    init(_ stages: [Document]) throws {
        var position = 0  // index in `order` the next stage may not precede
        for stage in stages {
            guard stage.count == 1, let (name, argument) = stage.firstField.map({ ($0.key, $0.value) }) else {
                throw OsmanthusError(.failedToParse, "A pipeline stage specification object must contain exactly one field.")
            }
            guard output == nil else { throw Self.unsupported(name) }
            if name == "$count" || name == "$group" {
                output = try Self.countStage(name, argument)
                continue
            }
            // A $match commutes with a $sort before it (filtering does not change the order),
            // and consecutive matches are their conjunction; past $skip/$limit/$project a
            // $match would see other documents, so it stays unsupported there.
            let matchMayFollow = name == "$match" && position <= Self.afterSort
            guard let rank = Self.order.firstIndex(of: name), rank >= position || matchMayFollow else {
                throw Self.unsupported(name)
            }
            position = max(position, rank + 1)
            switch name {
            case "$match":
                guard case .document(let match) = argument else {
                    throw OsmanthusError(.failedToParse, "the match filter must be an expression in an object")
                }
                filter = filter.isEmpty ? match : ["$and": [.document(filter), .document(match)]]
            case "$sort":
                guard case .document(let sort) = argument, !sort.isEmpty else {
                    throw OsmanthusError(.failedToParse, "the $sort key specification must be an object")
                }
                options.sort = sort
            case "$skip":
                guard let skip = argument.exactInt64, skip >= 0 else {
                    throw OsmanthusError(.failedToParse, "invalid argument to $skip stage: \(argument)")
                }
                options.skip = Int(clamping: skip)
            case "$limit":
                guard let limit = argument.exactInt64, limit > 0 else {
                    throw OsmanthusError(.failedToParse, "the limit must be positive")
                }
                options.limit = Int(clamping: limit)
            default:  // $project
                guard case .document(let projection) = argument else {
                    throw OsmanthusError(.failedToParse, "$project specification must be an object")
                }
                options.projection = projection
            }
        }
        // Counting ignores sort and projection; keep them out of the count.
        if output != nil {
            options.sort = nil
            options.projection = nil
        }
    }

    private static func countStage(_ name: String, _ argument: BSONValue) throws -> Output {
        if name == "$count" {
            guard case .string(let field) = argument, !field.isEmpty, !field.hasPrefix("$"), !field.contains(".") else {
                throw OsmanthusError(.failedToParse, "the count field must be a non-empty string without '$' or '.'")
            }
            return .count(field: field)
        }
        guard case .document(let group) = argument, let id = group["_id"] else {
            throw OsmanthusError(.failedToParse, "a group specification must include an _id")
        }
        if case .string(let path) = id, path.hasPrefix("$") { throw unsupported("$group by a field") }
        if case .document = id { throw unsupported("$group by an expression") }
        var sums: [(String, BSONValue)] = []
        for (field, accumulator) in group where field != "_id" {
            guard case .document(let spec) = accumulator, spec.count == 1, let amount = spec["$sum"], amount.isNumber else {
                throw unsupported("$group accumulator other than {$sum: <number>}")
            }
            sums.append((field, amount))
        }
        return .group(id: id, sums: sums)
    }

    private static func unsupported(_ what: String) -> OsmanthusError {
        OsmanthusError(.notImplemented, "aggregation: \(what) is not supported yet (only $match/$sort/$skip/$limit/$project and a count)")
    }
}
