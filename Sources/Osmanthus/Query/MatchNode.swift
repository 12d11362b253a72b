import OsmanthusBSON

/// A parsed query: the tree `FilterParser` builds and `Filter` evaluates.
indirect enum MatchNode: Sendable {
    case and([MatchNode])
    case or([MatchNode])
    case nor([MatchNode])
    case not(MatchNode)
    case constant(Bool)
    /// A condition on the values a path reaches (see `PathTraversal`). An empty path means
    /// "the value itself" (operators inside a value `$elemMatch`).
    case leaf(path: [String], leafArrays: PathTraversal.LeafArrays, predicate: LeafPredicate)
    case expr(Expression)

    /// Whether `document` matches, and the array position the positional `$` refers to: the one
    /// recorded by the last condition that matched through an array (MongoDB's `MatchDetails`
    /// elemMatchKey, which each matching child of an `$and` overwrites). Throws only for
    /// `$expr` evaluation errors.
    func evaluate(_ document: Document) throws -> (Bool, Int?) {
        switch self {
        case .and(let children):
            var index: Int?
            for child in children {
                let (matched, childIndex) = try child.evaluate(document)
                guard matched else { return (false, nil) }
                if let childIndex { index = childIndex }
            }
            return (true, index)
        case .or(let children):
            for child in children {
                let result = try child.evaluate(document)
                if result.0 { return result }
            }
            return (false, nil)
        case .nor(let children):
            for child in children where try child.evaluate(document).0 {
                return (false, nil)
            }
            return (true, nil)
        case .not(let child):
            return (try !child.evaluate(document).0, nil)
        case .constant(let value):
            return (value, nil)
        case .leaf(let path, let leafArrays, let predicate):
            if path.count == 1, case .compare(let op, let rhs) = predicate,
                let decided = Self.compareInPlace(document, path[0], op, rhs)
            {
                return (decided, nil)
            }
            var result: (Bool, Int?) = (false, nil)
            _ = PathTraversal.anyCandidate(in: document, path: path[...], leafArrays: leafArrays) { value, position in
                let (matched, inner) = predicate.test(value)
                guard matched else { return false }
                result = (true, position ?? inner)
                return true
            }
            return result
        case .expr(let expression):
            let value = try expression.evaluate(in: ExpressionContext(root: document))
            return (Expression.isTruthy(value), nil)
        }
    }

    /// A comparison on a top-level field decided in the document's bytes (no value decoded),
    /// or nil when the field needs the general walk (arrays, other types). Agrees with
    /// `LeafPredicate.compare` on the decoded field: a missing field only equals null (never a
    /// string or number, the only query values decided here), other brackets never compare.
    @inline(__always)
    static func compareInPlace(_ document: Document, _ field: String, _ op: ComparisonOperator, _ rhs: BSONValue)
        -> Bool?
    {
        switch document.compareField(field, with: rhs) {
        case .order(let order):
            switch op {
            case .eq: return order == 0
            case .lt: return order < 0
            case .lte: return order <= 0
            case .gt: return order > 0
            case .gte: return order >= 0
            }
        case .missing, .otherBracket: return false
        case .undecided: return nil
        }
    }

    /// Evaluates a node built for a single value (the operators of a value `$elemMatch`, whose
    /// leaves have empty paths): no path walk, no array traversal.
    func matchesValue(_ value: BSONValue) -> Bool {
        switch self {
        case .and(let children): return children.allSatisfy { $0.matchesValue(value) }
        case .or(let children): return children.contains { $0.matchesValue(value) }
        case .nor(let children): return !children.contains { $0.matchesValue(value) }
        case .not(let child): return !child.matchesValue(value)
        case .constant(let result): return result
        case .leaf(_, _, let predicate): return predicate.test(value).0
        case .expr: return false
        }
    }

    /// A single node for a list of conjuncts.
    static func all(_ nodes: [MatchNode]) -> MatchNode {
        nodes.count == 1 ? nodes[0] : .and(nodes)
    }
}
