import OsmanthusBSON

/// One aggregation operator: how its argument becomes operand nodes, and how it evaluates
/// them (lazily, so `$cond`, `$and`, `$ifNull` evaluate only what they need).
///
/// To add operators, write a `static let` list in an extension (one file per family, like
/// `ExpressionOperator+Core.swift`) and add it to `registry`.
struct ExpressionOperator: Sendable {
    typealias Evaluate = @Sendable ([Expression.Node], ExpressionContext) throws -> BSONValue?

    let name: String
    let parseArguments: @Sendable (BSONValue) throws -> [Expression.Node]
    let evaluate: Evaluate

    init(
        _ name: String, parseArguments: @escaping @Sendable (BSONValue) throws -> [Expression.Node],
        evaluate: @escaping Evaluate
    ) {
        self.name = name
        self.parseArguments = parseArguments
        self.evaluate = evaluate
    }

    /// An operator over a list of operands (an array argument, or a single one) whose count
    /// must lie in `arity`.
    init(_ name: String, arity: ClosedRange<Int>, evaluate: @escaping Evaluate) {
        self.init(
            name,
            parseArguments: { argument in
                let operands = try Expression.operands(argument)
                try ExpressionOperator.checkArity(name, operands.count, arity)
                return operands
            },
            evaluate: evaluate)
    }

    /// Every operator the parser knows, by name.
    static let registry: [String: ExpressionOperator] = {
        var table = [String: ExpressionOperator]()
        for op in core + variables + strings + arrays + types + dates { table[op.name] = op }
        return table
    }()

    static func checkArity(_ name: String, _ count: Int, _ arity: ClosedRange<Int>) throws {
        guard !arity.contains(count) else { return }
        let expected =
            arity.lowerBound == arity.upperBound
            ? "exactly \(arity.lowerBound)"
            : arity.upperBound == Int.max ? "at least \(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
        throw OsmanthusError(
            .location16020, "Expression \(name) takes \(expected) arguments. \(count) were passed in.")
    }

    /// A value's type name as `$type` reports it ("missing" for nil).
    static func typeName(_ value: BSONValue?) -> String {
        value?.type.name ?? "missing"
    }

    /// Aggregation's comparison: MongoDB's total order with missing as undefined.
    static func compare(_ a: BSONValue?, _ b: BSONValue?) -> Int {
        BSONValue.compare(a ?? .undefined, b ?? .undefined)
    }

    /// Whether a value is null, undefined or missing (what `$ifNull` and the arithmetic
    /// operators treat as "no value").
    static func isNullish(_ value: BSONValue?) -> Bool {
        switch value {
        case nil, .null?, .undefined?: true
        default: false
        }
    }
}
