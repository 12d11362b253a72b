#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import OsmanthusBSON

/// What an expression is evaluated against: `$$ROOT`, `$$CURRENT` (where `"$a.b"` paths
/// start), `$$NOW`, and variables bound by `$let`, `$map`, `$filter`... (names without `$$`).
public struct ExpressionContext: Sendable {
    public var root: Document
    public var current: BSONValue
    public var variables: [String: BSONValue]
    /// Milliseconds since the Unix epoch, the value of `$$NOW`.
    public var now: Int64

    public init(root: Document, variables: [String: BSONValue] = [:], now: Int64? = nil) {
        self.root = root
        current = .document(root)
        self.variables = variables
        self.now = now ?? ExpressionContext.clockNow()
    }

    static func clockNow() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// An aggregation expression (`$expr`, computed projections; the aggregation pipeline builds
/// on it): parsed once, evaluated per document.
///
/// A string starting with `$` is a field path (`"$a.b"`, through arrays: `"$a.b"` on
/// `{a: [{b: 1}, {b: 2}]}` is `[1, 2]`), `$$name` a variable, a document with one `$`-key an
/// operator (see `ExpressionOperator.registry`), any other document or array is evaluated
/// field by field, everything else is a literal. Evaluation yields nil for "missing", which
/// differs from null (`{$eq: ["$nope", null]}` is false).
public struct Expression: Sendable {
    indirect enum Node: Sendable {
        case literal(BSONValue)
        /// A path from `$$CURRENT`.
        case fieldPath([String])
        /// `$$name` and a path into it.
        case variable(String, [String])
        case array([Node])
        case object([(String, Node)])
        case operation(ExpressionOperator, [Node])
    }

    let node: Node

    public init(_ spec: BSONValue) throws {
        node = try Expression.parse(spec)
    }

    init(node: Node) {
        self.node = node
    }

    /// Evaluates against `doc` as `$$ROOT`; missing is returned as null.
    public func evaluate(_ doc: Document) throws -> BSONValue {
        try evaluate(in: ExpressionContext(root: doc)) ?? .null
    }

    /// Evaluates in `context`; nil means missing.
    public func evaluate(in context: ExpressionContext) throws -> BSONValue? {
        try node.evaluate(context)
    }

    /// MongoDB's truthiness: false, null, undefined, missing and numeric zero are false;
    /// everything else (empty strings and arrays included) is true.
    public static func isTruthy(_ value: BSONValue?) -> Bool {
        switch value {
        case nil, .null?, .undefined?: false
        case .bool(let flag)?: flag
        case .int32(let x)?: x != 0
        case .int64(let x)?: x != 0
        case .double(let x)?: x != 0
        case .decimal128(let x)?: !x.isZero
        default: true
        }
    }

    // MARK: Parsing

    static func parse(_ spec: BSONValue) throws -> Node {
        switch spec {
        case .string(let text) where text.hasPrefix("$"):
            return try parsePath(text)
        case .document(let document):
            guard let first = document.keys.first else { return .object([]) }
            if first.hasPrefix("$") {
                guard document.count == 1 else {
                    throw OsmanthusError(
                        .location15983,
                        "an expression specification must contain exactly one field, the name of the expression. Found \(document.count) fields in \(document)"
                    )
                }
                guard let op = ExpressionOperator.registry[first] else {
                    throw OsmanthusError(.invalidPipelineOperator, "Unrecognized expression '\(first)'")
                }
                return .operation(op, try op.parseArguments(document[first] ?? .null))
            }
            return .object(try document.map { key, value in
                try validateFieldName(key)
                return (key, try parse(value))
            })
        case .array(let elements):
            return .array(try elements.map(parse))
        default:
            return .literal(spec)
        }
    }

    /// A field name in an expression object or projection.
    static func validateFieldName(_ name: String) throws {
        if name.isEmpty { throw OsmanthusError(.failedToParse, "FieldPath field names may not be empty strings.") }
        if name.hasPrefix("$") {
            throw OsmanthusError(.location16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
        }
        if name.contains(".") { throw OsmanthusError(.failedToParse, "FieldPath field names may not contain '.'.") }
    }

    static let systemVariables: Set<String> = ["ROOT", "CURRENT", "NOW", "REMOVE", "CLUSTER_TIME"]

    private static func parsePath(_ text: String) throws -> Node {
        if text.hasPrefix("$$") {
            let parts = text.dropFirst(2).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard let first = name.unicodeScalars.first else {
                throw OsmanthusError(.failedToParse, "empty variable names are not allowed")
            }
            if !("a"..."z").contains(first) && !systemVariables.contains(name) {
                throw OsmanthusError(.location17276, "Use of undefined variable: \(name)")
            }
            let rest = Array(parts.dropFirst())
            for component in rest { try validatePathComponent(component) }
            return .variable(name, rest)
        }
        guard text.count > 1 else { throw OsmanthusError(.failedToParse, "'$' by itself is not a valid FieldPath") }
        let components = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for component in components { try validatePathComponent(component) }
        return .fieldPath(components)
    }

    private static func validatePathComponent(_ component: String) throws {
        if component.isEmpty { throw OsmanthusError(.failedToParse, "FieldPath field names may not be empty strings.") }
        if component.hasPrefix("$") {
            throw OsmanthusError(.location16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
        }
    }

    /// Operands of an operator: an array's elements, or one operand.
    static func operands(_ argument: BSONValue) throws -> [Node] {
        if case .array(let elements) = argument { return try elements.map(parse) }
        return [try parse(argument)]
    }

    // MARK: Field paths

    /// `"$a.b"` semantics: documents by field; arrays map the rest of the path over their
    /// document and array elements, dropping what is missing; scalars end in missing.
    static func value(at path: ArraySlice<String>, in value: BSONValue?) -> BSONValue? {
        guard let first = path.first else { return value }
        switch value {
        case .document(let document)?:
            return Expression.value(at: path.dropFirst(), in: document[first])
        case .array(let elements)?:
            var results = [BSONValue]()
            for element in elements {
                switch element {
                case .document, .array:
                    if let result = Expression.value(at: path, in: element) { results.append(result) }
                default:
                    continue
                }
            }
            return .array(results)
        default:
            return nil
        }
    }
}

extension Expression.Node {
    func evaluate(_ context: ExpressionContext) throws -> BSONValue? {
        switch self {
        case .literal(let value):
            return value
        case .fieldPath(let path):
            return Expression.value(at: path[...], in: context.current)
        case .variable(let name, let path):
            let base: BSONValue?
            switch name {
            case "ROOT": base = .document(context.root)
            case "CURRENT": base = context.current
            case "NOW": base = .datetime(context.now)
            case "REMOVE": base = nil
            case "CLUSTER_TIME": base = .timestamp(increment: 1, seconds: UInt32(clamping: context.now / 1000))
            default:
                guard let bound = context.variables[name] else {
                    throw OsmanthusError(.location17276, "Use of undefined variable: \(name)")
                }
                base = bound
            }
            return Expression.value(at: path[...], in: base)
        case .array(let elements):
            return .array(try elements.map { try $0.evaluate(context) ?? .null })
        case .object(let fields):
            var document = Document()
            for (key, node) in fields {
                if let value = try node.evaluate(context) { document.append(key, value) }
            }
            return .document(document)
        case .operation(let op, let arguments):
            return try op.evaluate(arguments, context)
        }
    }
}
