import OsmanthusBSON

/// The fields a projection names, as a tree of path components, and the two ways of applying
/// it (inclusion and exclusion).
struct ProjectionTree: Sendable {
    indirect enum Node: Sendable {
        case include
        case exclude
        /// `{$slice: n}` (skip nil) or `{$slice: [skip, limit]}`.
        case slice(skip: Int?, limit: Int)
        /// `{a: {$elemMatch: q}}`, kept as the filter `{a: {$elemMatch: q}}`.
        case elemMatch(Filter)
        case expression(Expression)
        case positional
        case children(ProjectionTree)

        /// Which mode the node asks for: true inclusion, false exclusion, nil either.
        var inclusionMode: Bool? {
            switch self {
            case .include, .elemMatch, .expression, .positional: true
            case .exclude: false
            case .slice, .children: nil
            }
        }
    }

    private(set) var fields: [(key: String, node: Node)] = []

    func node(_ key: String) -> Node? {
        fields.first { $0.key == key }?.node
    }

    /// Whether anything below computes a value (expressions), which inclusion must add even
    /// where the document has nothing.
    var hasComputed: Bool {
        fields.contains { field in
            switch field.node {
            case .expression: true
            case .children(let sub): sub.hasComputed
            default: false
            }
        }
    }

    /// Adds `node` at `path`; a path that is a prefix of another is a collision.
    mutating func insert(_ node: Node, at path: ArraySlice<String>, fullPath: [String]) throws {
        guard let key = path.first else { return }
        let display = fullPath.joined(separator: ".")
        let index = fields.firstIndex { $0.key == key }
        if path.count == 1 {
            guard index == nil else { throw OsmanthusError(.location31250, "Path collision at \(display)") }
            fields.append((key, node))
            return
        }
        var sub = ProjectionTree()
        if let index {
            guard case .children(let existing) = fields[index].node else {
                let rest = path.dropFirst().joined(separator: ".")
                throw OsmanthusError(.location31250, "Path collision at \(display) remaining portion \(rest)")
            }
            sub = existing
        }
        try sub.insert(node, at: path.dropFirst(), fullPath: fullPath)
        if let index { fields[index].node = .children(sub) } else { fields.append((key, .children(sub))) }
    }

    /// Parses one projection value (not a nested projection document).
    static func parseValue(_ value: BSONValue, path: [String], aggregation: Bool = false) throws -> Node {
        switch value {
        case .bool(let flag):
            return flag ? .include : .exclude
        case let number where number.isNumber:
            return Expression.isTruthy(number) ? .include : .exclude
        case .document(let document):
            guard !aggregation, let op = document.keys.first, op.hasPrefix("$"), document.count == 1,
                let argument = document[op]
            else {
                return .expression(try Expression(value))
            }
            switch op {
            case "$slice":
                return try parseSlice(argument)
            case "$elemMatch":
                guard path.count == 1 else {
                    throw OsmanthusError(.badValue, "Cannot use $elemMatch projection on a nested field.")
                }
                guard case .document = argument else {
                    throw OsmanthusError(.badValue, "elemMatch: Invalid argument, object required.")
                }
                return .elemMatch(try Filter([path[0]: .document([op: argument])]))
            case "$meta":
                throw OsmanthusError(.notImplemented, "$meta projection is not supported")
            default:
                return .expression(try Expression(value))
            }
        default:
            return .expression(try Expression(value))
        }
    }

    private static func parseSlice(_ argument: BSONValue) throws -> Node {
        func integer(_ value: BSONValue) -> Int? {
            guard value.isNumber, let double = BSONArithmetic.double(value), double.isFinite else { return nil }
            return Int(exactly: double.rounded(.towardZero)) ?? (double < 0 ? Int.min / 2 : Int.max / 2)
        }
        if let count = integer(argument) { return .slice(skip: nil, limit: count) }
        guard case .array(let pair) = argument else {
            throw OsmanthusError(.badValue, "$slice only supports numbers and [skip, limit] arrays")
        }
        guard pair.count == 2 else { throw OsmanthusError(.badValue, "$slice array wrong size") }
        guard let skip = integer(pair[0]), let limit = integer(pair[1]) else {
            throw OsmanthusError(.badValue, "$slice array arguments must be numbers")
        }
        guard limit > 0 else { throw OsmanthusError(.badValue, "$slice limit must be positive") }
        return .slice(skip: skip, limit: limit)
    }

    /// `$slice` on a value: arrays are cut, anything else is returned as is.
    static func slice(_ value: BSONValue, skip: Int?, limit: Int) -> BSONValue {
        guard case .array(let elements) = value else { return value }
        guard let skip else {
            return .array(limit >= 0 ? Array(elements.prefix(limit)) : Array(elements.suffix(-limit)))
        }
        let start = skip >= 0 ? min(skip, elements.count) : max(elements.count + skip, 0)
        return .array(Array(elements[start...].prefix(limit)))
    }

    // MARK: Applying

    /// Inclusion: the named fields in document order, then computed fields in projection order.
    func include(_ doc: Document, _ context: ExpressionContext) throws -> Document {
        var out = Document()
        var produced = Set<String>()
        for (key, value) in doc {
            guard let node = node(key), !produced.contains(key) else { continue }
            switch node {
            case .include:
                out.append(key, value)
            case .slice(let skip, let limit):
                out.append(key, ProjectionTree.slice(value, skip: skip, limit: limit))
            case .children(let sub):
                switch value {
                case .document(let fields): out.append(key, .document(try sub.include(fields, context)))
                case .array(let elements): out.append(key, .array(try sub.includeArray(elements, context)))
                default: continue
                }
            default:
                continue
            }
            produced.insert(key)
        }
        for (key, node) in fields where !produced.contains(key) {
            switch node {
            case .expression(let expression):
                if let value = try expression.evaluate(in: context) { out.append(key, value) }
            case .children(let sub) where sub.hasComputed:
                out.append(key, .document(try sub.include(Document(), context)))
            case .elemMatch(let filter):
                if case .array(let elements)? = doc[key], let index = filter.match(doc).arrayIndex, index < elements.count {
                    out.append(key, .array([elements[index]]))
                }
            default:
                break
            }
        }
        return out
    }

    private func includeArray(_ elements: [BSONValue], _ context: ExpressionContext) throws -> [BSONValue] {
        var out = [BSONValue]()
        for element in elements {
            switch element {
            case .document(let fields): out.append(.document(try include(fields, context)))
            case .array(let inner): out.append(.array(try includeArray(inner, context)))
            default: continue
            }
        }
        return out
    }

    /// Exclusion: everything but the named fields (slices cut in place).
    func exclude(_ doc: Document) -> Document {
        var out = Document()
        for (key, value) in doc {
            switch node(key) {
            case nil, .include?:
                out.append(key, value)
            case .exclude?:
                continue
            case .slice(let skip, let limit)?:
                out.append(key, ProjectionTree.slice(value, skip: skip, limit: limit))
            case .children(let sub)?:
                switch value {
                case .document(let fields): out.append(key, .document(sub.exclude(fields)))
                case .array(let elements): out.append(key, .array(sub.excludeArray(elements)))
                default: out.append(key, value)
                }
            default:
                out.append(key, value)
            }
        }
        return out
    }

    private func excludeArray(_ elements: [BSONValue]) -> [BSONValue] {
        elements.map { element in
            switch element {
            case .document(let fields): .document(exclude(fields))
            case .array(let inner): .array(excludeArray(inner))
            default: element
            }
        }
    }
}
