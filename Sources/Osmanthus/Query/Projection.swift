import OsmanthusBSON

/// A find projection (SPEC.md §12): inclusion (`{a: 1}`, only the named fields and `_id`) or
/// exclusion (`{a: 0}`, everything else); `_id` is kept unless `{_id: 0}`; the two modes do not
/// mix (Location31253/31254). Dotted and nested paths reach into documents and through arrays.
/// Also `$slice` (either mode), `$elemMatch` and the positional `"a.$"` (the element the query
/// matched), and aggregation expressions as computed fields (`{b: "$a"}`, `{c: {$literal: 1}}`).
///
/// Field order: included fields keep their document order; computed fields, `$elemMatch` and
/// positional results follow, in projection order.
public struct Projection: Sendable {
    let root: ProjectionTree
    let isInclusion: Bool
    /// Positional projections: the path (without the trailing `$`).
    let positional: [String]?
    public let spec: Document

    /// `aggregation`: the `$project` stage's reading, where `{$slice: [...]}` and any other
    /// operator document is an aggregation expression rather than a find-projection operator.
    public init(_ spec: Document, aggregation: Bool = false) throws {
        self.spec = spec
        var entries = [(path: [String], node: ProjectionTree.Node)]()
        try Projection.flatten(spec, prefix: [], aggregation: aggregation, into: &entries)
        var tree = ProjectionTree()
        var mode: Bool?  // true: inclusion, false: exclusion; set by the first field that decides
        var positional: [String]?
        var idNamed = false
        for (path, node) in entries {
            let display = path.joined(separator: ".")
            if case .positional = node {
                guard positional == nil else {
                    throw OsmanthusError(.badValue, "Cannot specify more than one positional projection per query.")
                }
                positional = path
            }
            let isIdFlag: Bool
            switch node {
            case .include, .exclude: isIdFlag = path == ["_id"]
            default: isIdFlag = false
            }
            if path == ["_id"] { idNamed = true }  // a flag or a computed _id
            if !isIdFlag, let inclusion = node.inclusionMode {
                if let decided = mode, decided != inclusion {
                    throw decided
                        ? OsmanthusError(.location31254, "Cannot do exclusion on field \(display) in inclusion projection")
                        : OsmanthusError(.location31253, "Cannot do inclusion on field \(display) in exclusion projection")
                }
                mode = inclusion
            }
            if case .positional = node { continue }  // applied after the tree, from the query's match
            try tree.insert(node, at: path[...], fullPath: path)
        }
        // Only `_id` named: `{_id: 1}` keeps just `_id`, `{_id: 0}` drops it.
        isInclusion = mode ?? entries.contains { entry in
            if case .include = entry.node, entry.path == ["_id"] { return true }
            return false
        }
        if isInclusion, !idNamed {
            try tree.insert(.include, at: ["_id"], fullPath: ["_id"])
        }
        root = tree
        self.positional = positional
    }

    /// Expands nested projection documents (`{a: {b: 1}}` is `{"a.b": 1}`) into full paths.
    private static func flatten(
        _ spec: Document, prefix: [String], aggregation: Bool,
        into entries: inout [(path: [String], node: ProjectionTree.Node)]
    ) throws {
        for (key, value) in spec {
            var path = prefix + FieldPath(key).components
            if path.contains(where: \.isEmpty) {
                throw OsmanthusError(.badValue, "FieldPath field names may not be empty strings.")
            }
            if path.contains(where: { $0.hasPrefix("$") && $0 != "$" }) || path.first == "$" {
                throw OsmanthusError(
                    .location16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
            }
            if path.last == "$" {
                path.removeLast()
                guard !path.contains("$") else {
                    throw OsmanthusError(.badValue, "Positional projection '\(key)' contains the positional operator in the middle")
                }
                guard Expression.isTruthy(value), value.isNumber || value.type == .bool else {
                    throw OsmanthusError(.badValue, "positional projection '\(key)' must be an inclusion")
                }
                entries.append((path, .positional))
                continue
            }
            if path.contains("$") {
                throw OsmanthusError(.badValue, "Positional projection '\(key)' contains the positional operator in the middle")
            }
            if case .document(let nested) = value, !FilterParser.isOperatorDocument(nested) {
                guard !nested.isEmpty else {
                    throw OsmanthusError(
                        .badValue, "An empty sub-projection is not a valid value. Found empty object at path \(path.joined(separator: "."))")
                }
                try flatten(nested, prefix: path, aggregation: aggregation, into: &entries)
                continue
            }
            entries.append((path, try ProjectionTree.parseValue(value, path: path, aggregation: aggregation)))
        }
    }

    /// Whether the projection returns documents unchanged (`{}`).
    public var isEmpty: Bool { spec.isEmpty }

    /// Projects `doc`. `filter` is the query, needed by a positional projection (which throws
    /// Location51246 when the query matched no array element).
    public func apply(to doc: Document, filter: Filter?) throws -> Document {
        if spec.isEmpty { return doc }
        let context = ExpressionContext(root: doc)
        var result = try isInclusion ? root.include(doc, context) : root.exclude(doc)
        if let positional {
            try applyPositional(positional, doc, filter, &result)
        }
        return result
    }

    private func applyPositional(_ path: [String], _ doc: Document, _ filter: Filter?, _ result: inout Document) throws {
        let notFound = OsmanthusError(
            .location51246,
            "Executor error during find command :: caused by :: positional operator '.$' couldn't find a matching element in the array")
        guard let index = filter?.match(doc).arrayIndex else { throw notFound }
        guard let projected = try Projection.positionalValue(doc, path[...], index, notFound) else { return }
        for (key, field) in projected { result.set(key, field) }
    }

    /// `fields` reduced to `path`, with the first array on the path replaced by its element at
    /// `index` (as a one-element array, itself reduced to the rest of the path); nil if the
    /// path is missing.
    private static func positionalValue(
        _ fields: Document, _ path: ArraySlice<String>, _ index: Int, _ notFound: OsmanthusError
    ) throws -> Document? {
        guard let component = path.first, let child = fields[component] else { return nil }
        if case .array(let elements) = child {
            guard index < elements.count else { throw notFound }
            return [component: .array([keepOnly(elements[index], path.dropFirst())])]
        }
        guard path.count > 1, case .document(let inner) = child else { throw notFound }
        return try positionalValue(inner, path.dropFirst(), index, notFound).map { [component: .document($0)] }
    }

    /// An inclusion of one path in a value.
    private static func keepOnly(_ value: BSONValue, _ path: ArraySlice<String>) -> BSONValue {
        guard let component = path.first, case .document(let fields) = value else { return value }
        guard let child = fields[component] else { return .document(Document()) }
        return .document([component: keepOnly(child, path.dropFirst())])
    }
}
