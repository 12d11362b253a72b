import OsmanthusBSON

/// Turns a query document into a `MatchNode` tree, rejecting what MongoDB rejects with its
/// error codes and (close to) its messages.
struct FilterParser {
    /// Whether `$expr` is allowed here (only at the top level of a query, not inside
    /// `$elemMatch` or `$pull`).
    var allowsExpr = true

    /// A query document: an implicit `$and` of its fields.
    func parse(_ query: Document) throws -> MatchNode {
        var nodes = [MatchNode]()
        for (key, value) in query {
            if key.hasPrefix("$") {
                if let node = try parseTopLevelOperator(key, value) { nodes.append(node) }
            } else {
                nodes.append(try parseField(FieldPath(key).components, value))
            }
        }
        return nodes.isEmpty ? .constant(true) : MatchNode.all(nodes)
    }

    private func parseTopLevelOperator(_ name: String, _ value: BSONValue) throws -> MatchNode? {
        switch name {
        case "$and", "$or", "$nor":
            guard case .array(let entries) = value, !entries.isEmpty else {
                throw OsmanthusError(.badValue, "\(name) must be a nonempty array")
            }
            let children = try entries.map { entry -> MatchNode in
                guard case .document(let clause) = entry else {
                    throw OsmanthusError(.badValue, "\(name) argument's entries must be objects")
                }
                return try parse(clause)
            }
            switch name {
            case "$and": return MatchNode.all(children)
            case "$or": return children.count == 1 ? children[0] : .or(children)
            default: return .nor(children)
            }
        case "$expr":
            guard allowsExpr else {
                throw OsmanthusError(.badValue, "$expr can only be applied to the top-level document")
            }
            return .expr(try Expression(value))
        case "$comment":
            return nil
        case "$alwaysTrue", "$alwaysFalse":
            guard value.exactInt64 == 1 else {
                throw OsmanthusError(.failedToParse, "\(name) must be an integer value of 1")
            }
            return .constant(name == "$alwaysTrue")
        case "$where", "$text", "$jsonSchema", "$sampleRate":
            throw OsmanthusError(.notImplemented, "\(name) is not supported")
        default:
            throw OsmanthusError(
                .badValue,
                "unknown top level operator: \(name). If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
            )
        }
    }

    /// The condition for one field: a regex, an operator document, or an equality.
    func parseField(_ path: [String], _ value: BSONValue) throws -> MatchNode {
        switch value {
        case .regex(let pattern, let options):
            return .leaf(path: path, leafArrays: .traverse, predicate: .regex(try QueryRegex(pattern: pattern, options: options)))
        case .document(let operators) where FilterParser.isOperatorDocument(operators):
            return MatchNode.all(try parseOperators(path, operators))
        default:
            return .leaf(path: path, leafArrays: .traverse, predicate: .compare(.eq, value))
        }
    }

    /// A document whose first key is an operator (a DBRef's `$ref` is a value, not an operator).
    static func isOperatorDocument(_ document: Document) -> Bool {
        guard let first = document.keys.first else { return false }
        return first.hasPrefix("$") && first != "$ref"
    }

    /// `{$gt: 1, $lt: 5, ...}` on `path`: one node per operator.
    func parseOperators(_ path: [String], _ operators: Document) throws -> [MatchNode] {
        var nodes = [MatchNode]()
        var regexSource: BSONValue?
        var regexOptions: String?
        func leaf(_ predicate: LeafPredicate, _ leafArrays: PathTraversal.LeafArrays = .traverse) -> MatchNode {
            .leaf(path: path, leafArrays: leafArrays, predicate: predicate)
        }
        for (name, argument) in operators {
            switch name {
            case "$eq":
                nodes.append(leaf(.compare(.eq, argument)))
            case "$ne":
                nodes.append(.not(leaf(.compare(.eq, argument))))
            case "$lt", "$lte", "$gt", "$gte":
                if case .regex = argument {
                    throw OsmanthusError(.badValue, "Can't have RegEx as arg to predicate over field '\(path.joined(separator: "."))'.")
                }
                let op: ComparisonOperator = name == "$lt" ? .lt : name == "$lte" ? .lte : name == "$gt" ? .gt : .gte
                nodes.append(leaf(.compare(op, argument)))
            case "$in", "$nin":
                let predicate = try parseIn(name, argument)
                nodes.append(name == "$in" ? leaf(predicate) : .not(leaf(predicate)))
            case "$exists":
                nodes.append(Expression.isTruthy(argument) ? leaf(.exists) : .not(leaf(.exists)))
            case "$type":
                nodes.append(leaf(try parseType(argument)))
            case "$size":
                nodes.append(leaf(.size(try parseSize(argument)), .noTraversal))
            case "$mod":
                nodes.append(leaf(try parseMod(argument)))
            case "$regex":
                regexSource = argument
            case "$options":
                guard case .string(let options) = argument else {
                    throw OsmanthusError(.badValue, "$options has to be a string")
                }
                regexOptions = options
            case "$all":
                nodes.append(try parseAll(path, argument))
            case "$elemMatch":
                nodes.append(leaf(try parseElemMatch(argument), .noTraversal))
            case "$not":
                nodes.append(.not(try parseNot(path, argument)))
            case "$bitsAllSet", "$bitsAllClear", "$bitsAnySet", "$bitsAnyClear":
                nodes.append(leaf(try parseBits(name, argument)))
            case "$near", "$nearSphere", "$geoWithin", "$geoIntersects", "$within", "$text", "$where":
                throw OsmanthusError(.notImplemented, "\(name) is not supported")
            default:
                throw OsmanthusError(.badValue, "unknown operator: \(name)")
            }
        }
        if regexOptions != nil || regexSource != nil {
            nodes.append(leaf(.regex(try parseRegex(regexSource, regexOptions))))
        }
        return nodes
    }

    private func parseRegex(_ source: BSONValue?, _ options: String?) throws -> QueryRegex {
        switch source {
        case nil:
            throw OsmanthusError(.badValue, "$options needs a $regex")
        case .string(let pattern)?:
            return try QueryRegex(pattern: pattern, options: options ?? "")
        case .regex(let pattern, let ownOptions)?:
            if let options, !ownOptions.isEmpty, !options.isEmpty {
                throw OsmanthusError(.badValue, "options set in both $regex and $options")
            }
            return try QueryRegex(pattern: pattern, options: ownOptions.isEmpty ? (options ?? "") : ownOptions)
        default:
            throw OsmanthusError(.badValue, "$regex has to be a string")
        }
    }

    private func parseIn(_ name: String, _ argument: BSONValue) throws -> LeafPredicate {
        guard case .array(let entries) = argument else {
            throw OsmanthusError(.badValue, "\(name) needs an array")
        }
        var values = [BSONValue]()
        var regexes = [QueryRegex]()
        for entry in entries {
            switch entry {
            case .regex(let pattern, let options):
                regexes.append(try QueryRegex(pattern: pattern, options: options))
            case .document(let document) where FilterParser.isOperatorDocument(document):
                throw OsmanthusError(.badValue, "cannot nest $ under \(name)")
            default:
                values.append(entry)
            }
        }
        return .in(values: values, regexes: regexes)
    }

    private func parseType(_ argument: BSONValue) throws -> LeafPredicate {
        var types = Set<BSONType>()
        var number = false
        let entries: [BSONValue]
        if case .array(let list) = argument { entries = list } else { entries = [argument] }
        for entry in entries {
            if case .string(let alias) = entry {
                if alias == "number" {
                    number = true
                } else if let type = BSONType(name: alias) {
                    types.insert(type)
                } else {
                    throw OsmanthusError(.badValue, "Unknown type name alias: \(alias)")
                }
            } else if entry.isNumber {
                guard let code = entry.exactInt64,
                    let type = code == -1 ? BSONType.minKey : (0...255).contains(code) ? BSONType(rawValue: UInt8(code)) : nil
                else {
                    throw OsmanthusError(.badValue, "Invalid numerical type code: \(entry)")
                }
                types.insert(type)
            } else {
                throw OsmanthusError(.typeMismatch, "type must be represented as a number or a string")
            }
        }
        if entries.isEmpty {
            throw OsmanthusError(.failedToParse, "$type must match at least one type")
        }
        return .type(types, matchesNumber: number)
    }

    private func parseSize(_ argument: BSONValue) throws -> Int {
        guard argument.isNumber else { throw OsmanthusError(.badValue, "$size needs a number") }
        guard let size = argument.exactInt64 else {
            throw OsmanthusError(.badValue, "$size must be a whole number")
        }
        guard size >= 0 else { throw OsmanthusError(.badValue, "$size may not be negative") }
        return Int(clamping: size)
    }

    private func parseMod(_ argument: BSONValue) throws -> LeafPredicate {
        guard case .array(let entries) = argument else {
            throw OsmanthusError(.badValue, "malformed mod, needs to be an array")
        }
        guard entries.count >= 2 else { throw OsmanthusError(.badValue, "malformed mod, not enough elements") }
        guard entries.count == 2 else { throw OsmanthusError(.badValue, "malformed mod, too many elements") }
        guard entries[0].isNumber else { throw OsmanthusError(.badValue, "malformed mod, divisor not a number") }
        guard entries[1].isNumber else { throw OsmanthusError(.badValue, "malformed mod, remainder not a number") }
        guard let divisor = LeafPredicate.truncatedInteger(entries[0]),
            let remainder = LeafPredicate.truncatedInteger(entries[1])
        else {
            throw OsmanthusError(.badValue, "malformed mod, divisor and remainder must be finite numbers")
        }
        guard divisor != 0 else { throw OsmanthusError(.badValue, "divisor cannot be 0") }
        return .mod(divisor: divisor, remainder: remainder)
    }

    private func parseAll(_ path: [String], _ argument: BSONValue) throws -> MatchNode {
        guard case .array(let entries) = argument else {
            throw OsmanthusError(.badValue, "$all needs an array")
        }
        guard !entries.isEmpty else { return .constant(false) }
        let elemMatches = entries.map { entry -> Bool in
            if case .document(let document) = entry, document.keys.first == "$elemMatch" { return true }
            return false
        }
        if elemMatches.contains(true) {
            guard !elemMatches.contains(false) else {
                throw OsmanthusError(.badValue, "$all/$elemMatch has to be consistent")
            }
            return .and(try entries.map { entry in
                guard case .document(let document) = entry else { return .constant(false) }
                return MatchNode.all(try parseOperators(path, document))
            })
        }
        return .and(try entries.map { entry in
            switch entry {
            case .regex(let pattern, let options):
                return .leaf(path: path, leafArrays: .traverse, predicate: .regex(try QueryRegex(pattern: pattern, options: options)))
            case .document(let document) where FilterParser.isOperatorDocument(document):
                throw OsmanthusError(.badValue, "no $ expressions in $all")
            default:
                return .leaf(path: path, leafArrays: .traverse, predicate: .compare(.eq, entry))
            }
        })
    }

    private func parseElemMatch(_ argument: BSONValue) throws -> LeafPredicate {
        guard case .document(let query) = argument else {
            throw OsmanthusError(.badValue, "$elemMatch needs an Object")
        }
        var inner = self
        inner.allowsExpr = false
        // Operators that apply to the element itself make the "value" form; logical operators
        // name fields of the element, so they make the "object" form.
        if let first = query.keys.first, FilterParser.isOperatorDocument(query),
            !["$and", "$or", "$nor", "$where", "$expr", "$comment", "$alwaysTrue", "$alwaysFalse"].contains(first)
        {
            return .elemMatchValue(try inner.parseOperators([], query))
        }
        return .elemMatchObject(try inner.parse(query))
    }

    private func parseNot(_ path: [String], _ argument: BSONValue) throws -> MatchNode {
        switch argument {
        case .regex(let pattern, let options):
            return .leaf(path: path, leafArrays: .traverse, predicate: .regex(try QueryRegex(pattern: pattern, options: options)))
        case .document(let operators):
            guard !operators.isEmpty else { throw OsmanthusError(.badValue, "$not cannot be empty") }
            guard let first = operators.keys.first, first.hasPrefix("$") else {
                throw OsmanthusError(.badValue, "unknown operator: \(operators.keys.first ?? "")")
            }
            return MatchNode.all(try parseOperators(path, operators))
        default:
            throw OsmanthusError(.badValue, "$not needs a regex or a document")
        }
    }

    private func parseBits(_ name: String, _ argument: BSONValue) throws -> LeafPredicate {
        let test: LeafPredicate.BitsTest =
            switch name {
            case "$bitsAllSet": .allSet
            case "$bitsAllClear": .allClear
            case "$bitsAnySet": .anySet
            default: .anyClear
            }
        var positions = [Int]()
        switch argument {
        case .array(let entries):
            for entry in entries {
                guard entry.isNumber, let position = entry.exactInt64, position >= 0, position < 1 << 31 else {
                    throw OsmanthusError(.badValue, "bit positions must be non-negative whole numbers: \(entry)")
                }
                positions.append(Int(position))
            }
        case .binary(let binary):
            for (byteIndex, byte) in binary.data.enumerated() {
                for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 { positions.append(byteIndex * 8 + bit) }
            }
        default:
            guard argument.isNumber, let mask = argument.exactInt64, mask >= 0 else {
                throw OsmanthusError(.badValue, "\(name) takes an Array, a number, or a BinData but received: \(argument)")
            }
            for bit in 0..<63 where (mask >> Int64(bit)) & 1 == 1 { positions.append(bit) }
        }
        return .bits(test, positions: positions)
    }
}
