import OsmanthusBSON

/// A parsed MongoDB query filter (SPEC.md §12).
///
/// Parse once, match many documents. Matching follows MongoDB's rules: a path into arrays
/// matches when any element does (`PathTraversal`), `{a: null}` matches null and missing,
/// comparisons hold only within one type bracket, and regexes use Swift's `Regex`.
public struct Filter: Sendable {
    let root: MatchNode
    /// The query as given.
    public let spec: Document

    /// Parses `spec`; throws `OsmanthusError` (`.badValue`, `.failedToParse`, `.notImplemented`
    /// ...) for bad operators and arguments, e.g. "unknown operator: $foo".
    public init(_ spec: Document) throws {
        self.spec = spec
        root = try FilterParser().parse(spec)
    }

    /// The filter that matches every document.
    public init() {
        spec = Document()
        root = .constant(true)
    }

    public func matches(_ doc: Document) -> Bool {
        match(doc).matched
    }

    /// Match + the array position the positional `$` update operator refers to (first array
    /// element that made the match on the path of a query condition), if any. A `$expr` that
    /// fails to evaluate does not match; use `evaluate` to see its error.
    public func match(_ doc: Document) -> (matched: Bool, arrayIndex: Int?) {
        (try? evaluate(doc)) ?? (false, nil)
    }

    /// As `match`, but throws the evaluation error of a `$expr` (e.g. `$divide` by zero).
    public func evaluate(_ doc: Document) throws -> (matched: Bool, arrayIndex: Int?) {
        let (matched, index) = try root.evaluate(doc)
        return (matched, matched ? index : nil)
    }

    /// Top-level equality conditions on plain fields (`{a: 5}` / `{a: {$eq: 5}}` inside an
    /// implicit or explicit $and, and `$in` with one value) — used for upsert seeds and key
    /// lookups: path → value. A path constrained twice keeps its first value.
    public var equalities: [String: BSONValue] {
        var result = [String: BSONValue]()
        for (path, value) in equalityList where result[path] == nil { result[path] = value }
        return result
    }

    /// `equalities[path]` without building the dictionary: the first top-level equality on
    /// `path` in query order (the key lookup of every write by `_id` asks only for this).
    func equality(at path: String) -> BSONValue? {
        func named(_ components: [String]) -> Bool {
            components.count == 1 ? components[0] == path : components.joined(separator: ".") == path
        }
        func find(_ node: MatchNode) -> BSONValue? {
            switch node {
            case .and(let children):
                for child in children { if let v = find(child) { return v } }
                return nil
            case .or(let children) where children.count == 1:
                return find(children[0])
            case .leaf(let p, .traverse, .compare(.eq, let value)) where !p.isEmpty && named(p):
                return value
            case .leaf(let p, .traverse, .in(let set))
            where !p.isEmpty && set.values.count == 1 && set.regexes.isEmpty && named(p):
                return set.values[0]
            default:
                return nil
            }
        }
        return find(root)
    }

    /// The equalities in query order, duplicates kept (for the upsert rules that reject them).
    var equalityList: [(path: String, value: BSONValue)] {
        var result = [(path: String, value: BSONValue)]()
        func collect(_ node: MatchNode) {
            switch node {
            case .and(let children):
                children.forEach(collect)
            case .or(let children) where children.count == 1:
                collect(children[0])
            case .leaf(let path, .traverse, .compare(.eq, let value)) where !path.isEmpty:
                result.append((path.joined(separator: "."), value))
            case .leaf(let path, .traverse, .in(let set)) where !path.isEmpty && set.values.count == 1 && set.regexes.isEmpty:
                result.append((path.joined(separator: "."), set.values[0]))
            default:
                break
            }
        }
        collect(root)
        return result
    }
}
