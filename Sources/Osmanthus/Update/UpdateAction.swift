import OsmanthusBSON

/// The update operators, by their names in an update document.
enum UpdateOperator: String, Sendable {
    case set = "$set"
    case unset = "$unset"
    case inc = "$inc"
    case mul = "$mul"
    case min = "$min"
    case max = "$max"
    case rename = "$rename"
    case setOnInsert = "$setOnInsert"
    case currentDate = "$currentDate"
    case push = "$push"
    case addToSet = "$addToSet"
    case pull = "$pull"
    case pullAll = "$pullAll"
    case pop = "$pop"
    case bit = "$bit"
}

/// One field of one operator: `{$inc: {"a.b": 1}}` is the action `inc(1)` at `a.b`.
struct UpdateAction: Sendable {
    enum Kind: Sendable {
        case set(BSONValue)
        case unset
        case inc(BSONValue)
        case mul(BSONValue)
        case min(BSONValue)
        case max(BSONValue)
        case rename(to: [String])
        case currentDate(timestamp: Bool)
        case push(PushSpec)
        case addToSet([BSONValue])
        case pull(PullCondition)
        case pullAll([BSONValue])
        case pop(first: Bool)
        case bit([(BitOperation, BSONValue)])
        /// The removal half of a `$rename`, planned at apply time.
        case renameSource
    }

    enum BitOperation: String, Sendable { case and, or, xor }

    let op: UpdateOperator
    let path: [String]
    let kind: Kind

    /// Whether the action creates missing fields and documents along its path (the others
    /// do nothing when the path is missing).
    var creates: Bool {
        switch kind {
        case .unset, .pull, .pullAll, .pop, .renameSource: false
        default: true
        }
    }
}

/// What an action does to the value at its path.
enum LeafOutcome {
    case unchanged
    case set(BSONValue)
    case remove
}

/// The facts an action's messages and `$currentDate` need.
struct UpdateEnvironment {
    /// The document being updated, as it was (only messages read its `_id`, so it is not
    /// decoded on the way of every update).
    let document: Document
    let now: Int64

    /// The updated document's `_id`, for messages ("{_id: 1} has the field ...").
    var documentId: BSONValue? { document["_id"] }

    var idText: String { "{_id: \(documentId.map { "\($0)" } ?? "null")}" }
}

extension UpdateAction.Kind {
    /// The new value for a field whose current value is `old` (nil: missing). `field` is the
    /// last path component and `path` the whole path, for messages.
    func outcome(old: BSONValue?, field: String, path: String, _ environment: UpdateEnvironment) throws -> LeafOutcome {
        switch self {
        case .set(let value):
            return .set(value)
        case .unset, .renameSource:
            return old == nil ? .unchanged : .remove
        case .inc(let amount), .mul(let amount):
            let isInc: Bool
            if case .inc = self { isInc = true } else { isInc = false }
            guard let old else { return .set(isInc ? amount : BSONArithmetic.zero(like: amount)) }
            guard let result = BSONArithmetic.apply(isInc ? .add : .multiply, old, amount) else {
                throw OsmanthusError(
                    .typeMismatch,
                    "Cannot apply \(isInc ? "$inc" : "$mul") to a value of non-numeric type. \(environment.idText) has the field '\(field)' of non-numeric type \(old.type.name)"
                )
            }
            return .set(result)
        case .min(let bound):
            guard let old, BSONValue.compare(bound, old) >= 0 else { return .set(bound) }
            return .unchanged
        case .max(let bound):
            guard let old, BSONValue.compare(bound, old) <= 0 else { return .set(bound) }
            return .unchanged
        case .currentDate(let timestamp):
            let now = environment.now
            return .set(timestamp ? .timestamp(increment: 1, seconds: UInt32(clamping: now / 1000)) : .datetime(now))
        case .push(let spec):
            guard let old else { return .set(.array(spec.apply(to: []))) }
            guard case .array(let elements) = old else {
                throw OsmanthusError(
                    .badValue,
                    "The field '\(field)' must be an array but is of type \(old.type.name) in document \(environment.idText)")
            }
            return .set(.array(spec.apply(to: elements)))
        case .addToSet(let values):
            var elements: [BSONValue]
            switch old {
            case nil: elements = []
            case .array(let existing)?: elements = existing
            case let other?:
                throw OsmanthusError(
                    .badValue,
                    "Cannot apply $addToSet to non-array field. Field named '\(field)' has non-array type \(other.type.name)")
            }
            let before = elements.count
            for value in values where !elements.contains(where: { BSONValue.compare($0, value) == 0 }) {
                elements.append(value)
            }
            return old != nil && elements.count == before ? .unchanged : .set(.array(elements))
        case .pull(let condition):
            return try pull(old) { condition.matches($0) }
        case .pullAll(let values):
            return try pull(old) { element in values.contains { BSONValue.compare($0, element) == 0 } }
        case .pop(let first):
            guard let old else { return .unchanged }
            guard case .array(var elements) = old else {
                throw OsmanthusError(.typeMismatch, "Path '\(path)' contains an element of non-array type '\(old.type.name)'")
            }
            guard !elements.isEmpty else { return .unchanged }
            if first { elements.removeFirst() } else { elements.removeLast() }
            return .set(.array(elements))
        case .bit(let operations):
            var value = old ?? .int32(0)
            for (operation, operand) in operations {
                guard let result = UpdateAction.Kind.bitwise(operation, value, operand) else {
                    throw OsmanthusError(
                        .badValue,
                        "Cannot apply $bit to a value of non-integral type.\(environment.idText) has the field \(field) of non-integer type \(value.type.name)")
                }
                value = result
            }
            return .set(value)
        case .rename:
            return .unchanged  // planned as a set and a renameSource
        }
    }

    private func pull(_ old: BSONValue?, _ removes: (BSONValue) -> Bool) throws -> LeafOutcome {
        guard let old else { return .unchanged }
        guard case .array(let elements) = old else {
            throw OsmanthusError(.badValue, "Cannot apply $pull to a non-array value")
        }
        let kept = elements.filter { !removes($0) }
        return kept.count == elements.count ? .unchanged : .set(.array(kept))
    }

    /// `$bit` on int32/int64: the wider type wins.
    static func bitwise(_ operation: UpdateAction.BitOperation, _ a: BSONValue, _ b: BSONValue) -> BSONValue? {
        func combine<T: FixedWidthInteger>(_ x: T, _ y: T) -> T {
            switch operation {
            case .and: x & y
            case .or: x | y
            case .xor: x ^ y
            }
        }
        switch (a, b) {
        case (.int32(let x), .int32(let y)): return .int32(combine(x, y))
        case (.int32(let x), .int64(let y)): return .int64(combine(Int64(x), y))
        case (.int64(let x), .int32(let y)): return .int64(combine(x, Int64(y)))
        case (.int64(let x), .int64(let y)): return .int64(combine(x, y))
        default: return nil
        }
    }
}
