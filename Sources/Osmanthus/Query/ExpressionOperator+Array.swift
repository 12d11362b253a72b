import OsmanthusBSON

/// Array operators: `$filter`, `$map`, `$slice` (`$size`, `$arrayElemAt`, `$in` are in the
/// core set). `$filter` and `$map` bind their element to a variable (`as`, default `this`).
extension ExpressionOperator {
    static let arrays: [ExpressionOperator] = [
        // Arguments: [input, literal(as), cond, limit?].
        ExpressionOperator("$filter", parseArguments: { argument in
            let fields = try namedArguments("$filter", argument, allowed: ["input", "as", "cond", "limit"], required: ["input", "cond"])
            var nodes = [try Expression.parse(fields["input"] ?? .null), .literal(.string(try variableName("$filter", fields["as"]))),
                         try Expression.parse(fields["cond"] ?? .null)]
            if let limit = fields["limit"] { nodes.append(try Expression.parse(limit)) }
            return nodes
        }) { args, context in
            let input = try args[0].evaluate(context)
            if isNullish(input) { return .null }
            guard case .array(let elements)? = input, case .literal(.string(let name)) = args[1] else {
                throw OsmanthusError(.location(28651), "input to $filter must be an array not \(typeName(input))")
            }
            var limit = Int.max
            if args.count > 3 {
                let value = try args[3].evaluate(context)
                if !isNullish(value) {
                    guard let value, value.isNumber, let n = value.exactInt64, n > 0 else {
                        throw OsmanthusError(.location(327391), "$filter: limit must be a positive integer")
                    }
                    limit = Int(clamping: n)
                }
            }
            var inner = context
            var kept = [BSONValue]()
            for element in elements where kept.count < limit {
                inner.variables[name] = element
                if Expression.isTruthy(try args[2].evaluate(inner)) { kept.append(element) }
            }
            return .array(kept)
        },
        // Arguments: [input, literal(as), in].
        ExpressionOperator("$map", parseArguments: { argument in
            let fields = try namedArguments("$map", argument, allowed: ["input", "as", "in"], required: ["input", "in"])
            return [try Expression.parse(fields["input"] ?? .null), .literal(.string(try variableName("$map", fields["as"]))),
                    try Expression.parse(fields["in"] ?? .null)]
        }) { args, context in
            let input = try args[0].evaluate(context)
            if isNullish(input) { return .null }
            guard case .array(let elements)? = input, case .literal(.string(let name)) = args[1] else {
                throw OsmanthusError(.location(16883), "input to $map must be an array not \(typeName(input))")
            }
            var inner = context
            return .array(try elements.map { element in
                inner.variables[name] = element
                return try args[2].evaluate(inner) ?? .null
            })
        },
        ExpressionOperator("$slice", arity: 2...3) { args, context in
            let values = try args.map { try $0.evaluate(context) }
            if values.contains(where: isNullish) { return .null }
            guard case .array(let elements)? = values[0] else {
                throw OsmanthusError(.location(28724), "First argument to $slice must be an array, but is of type: \(typeName(values[0]))")
            }
            let integers = try values.dropFirst().map { value -> Int64 in
                guard let value, value.isNumber, let n = value.exactInt64 else {
                    throw OsmanthusError(.location(28725), "Second argument to $slice must be a numeric value, but is of type: \(typeName(value))")
                }
                return n
            }
            let count = Int64(elements.count)
            var start: Int64
            var length: Int64
            if integers.count == 1 {
                let n = integers[0]
                (start, length) = n >= 0 ? (0, n) : (max(0, count + n), -n)
            } else {
                let position = integers[0]
                length = integers[1]
                guard length > 0 else {
                    throw OsmanthusError(.location(28729), "Third argument to $slice must be positive: \(length)")
                }
                start = position >= 0 ? min(position, count) : max(0, count + position)
            }
            start = min(start, count)
            let end = min(count, start + length)
            return .array(Array(elements[Int(start)..<Int(end)]))
        },
        ExpressionOperator("$reverseArray", arity: 1...1) { args, context in
            let value = try args[0].evaluate(context)
            if isNullish(value) { return .null }
            guard case .array(let elements)? = value else {
                throw OsmanthusError(.location(34435), "The argument to $reverseArray must be an array, but was of type: \(typeName(value))")
            }
            return .array(elements.reversed())
        },
    ]

    /// The `as` of `$map`/`$filter`: a valid variable name, `this` when absent.
    private static func variableName(_ name: String, _ value: BSONValue?) throws -> String {
        guard let value else { return "this" }
        guard case .string(let text) = value else {
            throw OsmanthusError(.failedToParse, "\(name): 'as' must be a string")
        }
        try checkVariableName(text)
        return text
    }
}
