import OsmanthusBSON

/// The core operators: literals, comparison, arithmetic, boolean logic, conditionals, and a few
/// array, type and string helpers.
extension ExpressionOperator {
    static let core: [ExpressionOperator] = [
        ExpressionOperator("$literal", parseArguments: { [.literal($0)] }, evaluate: { args, _ in
            guard case .literal(let value) = args[0] else { return nil }
            return value
        }),
        comparison("$eq") { $0 == 0 },
        comparison("$ne") { $0 != 0 },
        comparison("$gt") { $0 > 0 },
        comparison("$gte") { $0 >= 0 },
        comparison("$lt") { $0 < 0 },
        comparison("$lte") { $0 <= 0 },
        ExpressionOperator("$cmp", arity: 2...2) { args, context in
            .int32(Int32(compare(try args[0].evaluate(context), try args[1].evaluate(context))))
        },
        ExpressionOperator("$add", arity: 0...Int.max) { args, context in try add(args, context) },
        ExpressionOperator("$subtract", arity: 2...2) { args, context in
            try subtract(try args[0].evaluate(context), try args[1].evaluate(context))
        },
        ExpressionOperator("$multiply", arity: 0...Int.max) { args, context in
            var product = BSONValue.int32(1)
            for arg in args {
                let value = try arg.evaluate(context)
                if isNullish(value) { return .null }
                guard let value, let next = BSONArithmetic.apply(.multiply, product, value) else {
                    throw OsmanthusError(.typeMismatch, "$multiply only supports numeric types, not \(typeName(value))")
                }
                product = next
            }
            return product
        },
        ExpressionOperator("$divide", arity: 2...2) { args, context in
            let (a, b) = (try args[0].evaluate(context), try args[1].evaluate(context))
            if isNullish(a) || isNullish(b) { return .null }
            guard let a, let b, a.isNumber, b.isNumber else {
                throw OsmanthusError(
                    .typeMismatch, "$divide only supports numeric types, not \(typeName(a)) and \(typeName(b))")
            }
            guard !BSONArithmetic.isZero(b) else { throw OsmanthusError(.badValue, "can't $divide by zero") }
            return BSONArithmetic.divide(a, b)
        },
        ExpressionOperator("$mod", arity: 2...2) { args, context in
            let (a, b) = (try args[0].evaluate(context), try args[1].evaluate(context))
            if isNullish(a) || isNullish(b) { return .null }
            guard let a, let b, a.isNumber, b.isNumber else {
                throw OsmanthusError(
                    .typeMismatch, "$mod only supports numeric types, not \(typeName(a)) and \(typeName(b))")
            }
            guard !BSONArithmetic.isZero(b) else { throw OsmanthusError(.badValue, "can't $mod by zero") }
            return BSONArithmetic.remainder(a, b)
        },
        ExpressionOperator("$abs", arity: 1...1) { args, context in
            let value = try args[0].evaluate(context)
            switch value {
            case nil, .null?, .undefined?: return .null
            case .int32(let x)?: return x == .min ? .int64(-Int64(x)) : .int32(abs(x))
            case .int64(let x)?:
                guard x != .min else { throw OsmanthusError(.badValue, "can't take $abs of long long min") }
                return .int64(abs(x))
            case .double(let x)?: return .double(abs(x))
            case .decimal128(let x)?:
                var magnitude = DecimalNumber(x)
                magnitude.negative = false
                return .decimal128(magnitude.decimal128)
            default: throw OsmanthusError(.typeMismatch, "$abs only supports numeric types, not \(typeName(value))")
            }
        },
        ExpressionOperator("$and", arity: 0...Int.max) { args, context in
            for arg in args where !Expression.isTruthy(try arg.evaluate(context)) { return .bool(false) }
            return .bool(true)
        },
        ExpressionOperator("$or", arity: 0...Int.max) { args, context in
            for arg in args where Expression.isTruthy(try arg.evaluate(context)) { return .bool(true) }
            return .bool(false)
        },
        ExpressionOperator("$not", arity: 1...1) { args, context in
            .bool(!Expression.isTruthy(try args[0].evaluate(context)))
        },
        ExpressionOperator("$cond", parseArguments: parseCond) { args, context in
            try (Expression.isTruthy(try args[0].evaluate(context)) ? args[1] : args[2]).evaluate(context)
        },
        ExpressionOperator(
            "$ifNull",
            parseArguments: { argument in
                let operands = try Expression.operands(argument)
                guard operands.count >= 2 else {
                    throw OsmanthusError(.location16020, "$ifNull needs at least two arguments, had: \(operands.count)")
                }
                return operands
            },
            evaluate: { args, context in
                for arg in args.dropLast() {
                    let value = try arg.evaluate(context)
                    if !isNullish(value) { return value }
                }
                return try args[args.count - 1].evaluate(context)
            }),
        ExpressionOperator("$in", arity: 2...2) { args, context in
            let needle = try args[0].evaluate(context)
            guard case .array(let haystack)? = try args[1].evaluate(context) else {
                let found = try args[1].evaluate(context)
                throw OsmanthusError(.location40081, "$in requires an array as a second argument, found: \(typeName(found))")
            }
            return .bool(haystack.contains { compare(needle, $0) == 0 })
        },
        ExpressionOperator("$size", arity: 1...1) { args, context in
            let value = try args[0].evaluate(context)
            guard case .array(let elements)? = value else {
                throw OsmanthusError(
                    .location17124, "The argument to $size must be an array. Type of argument was: \(typeName(value))")
            }
            return .int32(Int32(clamping: elements.count))
        },
        ExpressionOperator("$isArray", arity: 1...1) { args, context in
            if case .array? = try args[0].evaluate(context) { return .bool(true) }
            return .bool(false)
        },
        ExpressionOperator("$type", arity: 1...1) { args, context in
            .string(typeName(try args[0].evaluate(context)))
        },
        ExpressionOperator("$arrayElemAt", arity: 2...2) { args, context in
            let (array, index) = (try args[0].evaluate(context), try args[1].evaluate(context))
            if isNullish(array) || isNullish(index) { return .null }
            guard case .array(let elements)? = array else {
                throw OsmanthusError(.typeMismatch, "$arrayElemAt's first argument must be an array, but is \(typeName(array))")
            }
            guard let index, index.isNumber, let position = index.exactInt64 else {
                throw OsmanthusError(.typeMismatch, "$arrayElemAt's second argument must be a numeric value")
            }
            let resolved = position < 0 ? Int64(elements.count) + position : position
            guard resolved >= 0, resolved < elements.count else { return Optional<BSONValue>.none }
            return elements[Int(resolved)]
        },
        ExpressionOperator("$concat", arity: 0...Int.max) { args, context in
            var text = ""
            for arg in args {
                let value = try arg.evaluate(context)
                if isNullish(value) { return .null }
                guard case .string(let part)? = value else {
                    throw OsmanthusError(.typeMismatch, "$concat only supports strings, not \(typeName(value))")
                }
                text += part
            }
            return .string(text)
        },
        extremum("$max") { $0 > 0 },
        extremum("$min") { $0 < 0 },
    ]

    private static func comparison(_ name: String, _ holds: @escaping @Sendable (Int) -> Bool) -> ExpressionOperator {
        ExpressionOperator(name, arity: 2...2) { args, context in
            .bool(holds(compare(try args[0].evaluate(context), try args[1].evaluate(context))))
        }
    }

    /// `$max`/`$min`: over the operands, or the elements of a single array operand; nullish
    /// values are ignored, and all-nullish gives null.
    private static func extremum(_ name: String, _ better: @escaping @Sendable (Int) -> Bool) -> ExpressionOperator {
        ExpressionOperator(name, arity: 1...Int.max) { args, context in
            var values = try args.map { try $0.evaluate(context) }
            if values.count == 1, case .array(let elements)? = values[0] { values = elements }
            var best: BSONValue?
            for case let value? in values where !isNullish(value) {
                if best == nil || better(compare(value, best)) { best = value }
            }
            return best ?? .null
        }
    }

    private static func parseCond(_ argument: BSONValue) throws -> [Expression.Node] {
        guard case .document(let fields) = argument else {
            let operands = try Expression.operands(argument)
            try checkArity("$cond", operands.count, 3...3)
            return operands
        }
        var parts: [String: Expression.Node] = [:]
        for (key, value) in fields {
            guard ["if", "then", "else"].contains(key) else {
                throw OsmanthusError(.failedToParse, "Unrecognized parameter to $cond: \(key)")
            }
            parts[key] = try Expression.parse(value)
        }
        return try ["if", "then", "else"].map { key in
            guard let node = parts[key] else { throw OsmanthusError(.failedToParse, "Missing '\(key)' parameter to $cond") }
            return node
        }
    }

    private static func add(_ args: [Expression.Node], _ context: ExpressionContext) throws -> BSONValue? {
        var sum = BSONValue.int32(0)
        var date: Int64?
        for arg in args {
            let value = try arg.evaluate(context)
            if isNullish(value) { return .null }
            switch value {
            case .datetime(let milliseconds)?:
                guard date == nil else { throw OsmanthusError(.badValue, "only one date allowed in an $add expression") }
                date = milliseconds
            case let number? where number.isNumber:
                guard let next = BSONArithmetic.apply(.add, sum, number) else { return .null }
                sum = next
            default:
                throw OsmanthusError(.typeMismatch, "$add only supports numeric or date types, not \(typeName(value))")
            }
        }
        guard let date else { return sum }
        return .datetime(date &+ (try milliseconds(sum)))
    }

    private static func subtract(_ a: BSONValue?, _ b: BSONValue?) throws -> BSONValue? {
        if isNullish(a) || isNullish(b) { return .null }
        switch (a, b) {
        case (.datetime(let x)?, .datetime(let y)?):
            return .int64(x &- y)
        case (.datetime(let x)?, let number?) where number.isNumber:
            return .datetime(x &- (try milliseconds(number)))
        case (let x?, let y?) where x.isNumber && y.isNumber:
            return BSONArithmetic.apply(.subtract, x, y)
        default:
            throw OsmanthusError(.typeMismatch, "can't $subtract \(typeName(b)) from \(typeName(a))")
        }
    }

    /// A number of milliseconds to add to a date (doubles and decimals rounded).
    private static func milliseconds(_ number: BSONValue) throws -> Int64 {
        if let exact = number.exactInt64 { return exact }
        guard let rounded = BSONArithmetic.double(number)?.rounded(), let value = Int64(exactly: rounded) else {
            throw OsmanthusError(.badValue, "date overflow in $add or $subtract")
        }
        return value
    }
}
