import OsmanthusBSON

/// One output field of `$group` (or `$bucket`'s `output`): `{<field>: {<$op>: <expression>}}`.
/// The expression is parsed once; `AccumulatorState` folds the values of one group.
struct Accumulator: Sendable {
    enum Kind: String, Sendable {
        case sum = "$sum", avg = "$avg", min = "$min", max = "$max", first = "$first", last = "$last"
        case push = "$push", addToSet = "$addToSet", count = "$count"
    }

    let field: String
    let kind: Kind
    /// nil for `$count`, which takes `{}`.
    let expression: Expression?

    init(field: String, spec: BSONValue) throws {
        try Expression.validateFieldName(field)
        guard case .document(let body) = spec, body.count == 1, let name = body.keys.first, let argument = body[name] else {
            throw OsmanthusError(.location16436, "The field '\(field)' must be an accumulator object")
        }
        guard let kind = Kind(rawValue: name) else {
            throw OsmanthusError(.location15952, "unknown group operator '\(name)'")
        }
        if case .array = argument, kind != .count {
            throw OsmanthusError(.location(40237), "The \(name) accumulator is a unary operator")
        }
        self.field = field
        self.kind = kind
        if kind == .count {
            guard case .document(let empty) = argument, empty.isEmpty else {
                throw OsmanthusError(.typeMismatch, "$count takes an empty object, {}")
            }
            expression = nil
        } else {
            expression = try Expression(argument)
        }
    }

    func makeState() -> AccumulatorState { AccumulatorState(kind: kind) }
}
