import OsmanthusBSON

/// Operators that bind variables or branch over several cases: `$let`, `$switch`, and
/// `$round` (kept here as it shares the named-argument parsing helpers).
extension ExpressionOperator {
    static let variables: [ExpressionOperator] = [
        // Arguments: [in, literal(names), value1, value2...].
        ExpressionOperator("$let", parseArguments: parseLet) { args, context in
            guard case .literal(.array(let names)) = args[1] else { return nil }
            var inner = context
            for (name, node) in zip(names, args.dropFirst(2)) {
                guard case .string(let key) = name else { continue }
                inner.variables[key] = try node.evaluate(context) ?? .null
            }
            return try args[0].evaluate(inner)
        },
        // Arguments: [literal(hasDefault), case1, then1, ..., default?].
        ExpressionOperator("$switch", parseArguments: parseSwitch) { args, context in
            let hasDefault = args[0].isLiteralTrue
            let branchEnd = hasDefault ? args.count - 1 : args.count
            var index = 1
            while index + 1 < branchEnd + 1 {
                if Expression.isTruthy(try args[index].evaluate(context)) { return try args[index + 1].evaluate(context) }
                index += 2
            }
            guard hasDefault else {
                throw OsmanthusError(
                    .location(40066), "$switch could not find a matching branch for an input, and no default was specified.")
            }
            return try args[args.count - 1].evaluate(context)
        },
        ExpressionOperator("$round", arity: 1...2) { args, context in
            let value = try args[0].evaluate(context)
            let place = try args.count > 1 ? args[1].evaluate(context) : .int32(0)
            if isNullish(value) || isNullish(place) { return .null }
            guard let value, value.isNumber else {
                throw OsmanthusError(.location(51081), "$round only supports numeric types, not \(typeName(value))")
            }
            guard let digits = place?.exactInt64, (-20...100).contains(digits) else {
                throw OsmanthusError(.location(51083), "$round requires an integral place between -20 and 100")
            }
            return round(value, places: Int(digits))
        },
    ]

    /// Named arguments of an operator such as `{input: ..., as: ..., in: ...}`, checked against
    /// the names it accepts and requires.
    static func namedArguments(
        _ name: String, _ argument: BSONValue, allowed: Set<String>, required: Set<String>
    ) throws -> Document {
        guard case .document(let fields) = argument else {
            throw OsmanthusError(.failedToParse, "\(name) only supports an object as its argument")
        }
        for key in fields.keys where !allowed.contains(key) {
            throw OsmanthusError(.failedToParse, "Unrecognized parameter to \(name): \(key)")
        }
        for key in required.sorted() where fields[key] == nil {
            throw OsmanthusError(.failedToParse, "Missing '\(key)' parameter to \(name)")
        }
        return fields
    }

    /// A variable name that `$let`, `$map` and `$filter` may bind (lowercase start, no dots).
    static func checkVariableName(_ name: String) throws {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || first.value > 127,
            !name.contains(".")
        else {
            throw OsmanthusError(.failedToParse, "'\(name)' starts with an invalid character for a user variable name")
        }
    }

    private static func parseLet(_ argument: BSONValue) throws -> [Expression.Node] {
        let fields = try namedArguments("$let", argument, allowed: ["vars", "in"], required: ["vars", "in"])
        guard case .document(let vars)? = fields["vars"] else {
            throw OsmanthusError(.failedToParse, "invalid parameter: expected an object (vars)")
        }
        var names = [BSONValue]()
        var values = [Expression.Node]()
        for (key, value) in vars {
            try checkVariableName(key)
            names.append(.string(key))
            values.append(try Expression.parse(value))
        }
        return [try Expression.parse(fields["in"] ?? .null), .literal(.array(names))] + values
    }

    private static func parseSwitch(_ argument: BSONValue) throws -> [Expression.Node] {
        let fields = try namedArguments("$switch", argument, allowed: ["branches", "default"], required: ["branches"])
        guard case .array(let branches)? = fields["branches"] else {
            throw OsmanthusError(.location(40061), "$switch expected an array for 'branches'")
        }
        var nodes: [Expression.Node] = [.literal(.bool(fields["default"] != nil))]
        for branch in branches {
            guard case .document(let spec) = branch else {
                throw OsmanthusError(.location(40062), "$switch expected each branch to be an object")
            }
            let parts = try namedArguments("$switch", .document(spec), allowed: ["case", "then"], required: ["case", "then"])
            nodes.append(try Expression.parse(parts["case"] ?? .null))
            nodes.append(try Expression.parse(parts["then"] ?? .null))
        }
        if branches.isEmpty {
            throw OsmanthusError(.location(40068), "$switch requires at least one branch.")
        }
        if let fallback = fields["default"] { nodes.append(try Expression.parse(fallback)) }
        return nodes
    }

    /// Rounds half to even at `places` decimal digits (negative: left of the point), keeping
    /// the number's type as MongoDB does.
    static func round(_ value: BSONValue, places: Int) -> BSONValue {
        func roundDouble(_ x: Double) -> Double {
            guard x.isFinite else { return x }
            // Scale by an exact power of ten in the direction that keeps integers exact.
            let factor = pow10(abs(places))
            if places < 0 { return (x / factor).rounded(.toNearestOrEven) * factor }
            return (x * factor).rounded(.toNearestOrEven) / factor
        }
        switch value {
        case .double(let x): return .double(roundDouble(x))
        case .int32(let x):
            guard places < 0 else { return value }
            let r = roundDouble(Double(x))
            return Int32(exactly: r).map { .int32($0) } ?? .int64(Int64(r))
        case .int64(let x):
            guard places < 0 else { return value }
            return .int64(Int64(roundDouble(Double(x))))
        case .decimal128:
            guard let x = value.numericDouble else { return value }
            return .decimal128((try? Decimal128("\(roundDouble(x))")) ?? DecimalNumber(roundDouble(x)).decimal128)
        default: return value
        }
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent >= 0 ? result : 1 / result
    }
}

extension Expression.Node {
    var isLiteralTrue: Bool {
        if case .literal(.bool(true)) = self { return true }
        return false
    }
}
