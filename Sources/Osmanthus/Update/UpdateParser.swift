import OsmanthusBSON

/// Parse-time checks and argument parsing for operator updates.
enum UpdateParser {
    /// Splits and checks an update path: no empty components, at most one `$`, no positional
    /// component first, no other `$`-prefixed names.
    static func path(_ field: String) throws -> [String] {
        // A plain top-level name (no dot, not `$`-prefixed: the usual case) passes every check
        // below as one component.
        if let first = field.utf8.first, first != UInt8(ascii: "$"), !field.utf8.contains(UInt8(ascii: ".")) {
            return [field]
        }
        guard !field.isEmpty else { throw OsmanthusError(.emptyFieldName, "An empty update path is not valid.") }
        let components = FieldPath(field).components
        if components.contains(where: \.isEmpty) {
            throw OsmanthusError(.emptyFieldName, "The update path '\(field)' contains an empty field name, which is not allowed.")
        }
        if components.filter({ $0 == "$" }).count > 1 {
            throw OsmanthusError(.badValue, "Too many positional (i.e. '$') elements found in path '\(field)'")
        }
        if components[0] == "$" {
            throw OsmanthusError(.badValue, "Cannot have positional (i.e. '$') element in the first position in path '\(field)'")
        }
        if UpdatePathResolver.isArrayFilter(components[0]) {
            throw OsmanthusError(
                .badValue, "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '\(field)'")
        }
        for component in components where component.hasPrefix("$") && !UpdatePathResolver.isPositional(component) {
            throw OsmanthusError(
                .dollarPrefixedFieldName, "The dollar ($) prefixed field '\(component)' in '\(field)' is not valid for storage.")
        }
        return components
    }

    /// The action of `op` for one field and its argument.
    static func kind(_ op: UpdateOperator, _ field: String, _ path: [String], _ value: BSONValue) throws -> UpdateAction.Kind {
        switch op {
        case .set, .setOnInsert:
            return .set(value)
        case .unset:
            return .unset
        case .inc, .mul:
            guard value.isNumber else {
                throw OsmanthusError(
                    .typeMismatch,
                    "Cannot \(op == .inc ? "increment" : "multiply") with non-numeric argument: {\(field): \(value)}")
            }
            return op == .inc ? .inc(value) : .mul(value)
        case .min:
            return .min(value)
        case .max:
            return .max(value)
        case .rename:
            return .rename(to: try renameTarget(field, path, value))
        case .currentDate:
            return .currentDate(timestamp: try currentDateIsTimestamp(value))
        case .push:
            return .push(try PushSpec(value))
        case .addToSet:
            guard case .document(let modifiers) = value, modifiers.keys.first == "$each" else { return .addToSet([value]) }
            guard modifiers.count == 1 else {
                throw OsmanthusError(
                    .badValue, "Found unexpected fields after $each in $addToSet: \(value)")
            }
            guard case .array(let values)? = modifiers["$each"] else {
                throw OsmanthusError(
                    .typeMismatch,
                    "The argument to $each in $addToSet must be an array but it was of type \(modifiers["$each"]?.type.name ?? "missing")")
            }
            return .addToSet(values)
        case .pull:
            return .pull(try PullCondition(value))
        case .pullAll:
            guard case .array(let values) = value else {
                throw OsmanthusError(.badValue, "$pullAll requires an array argument but was given a \(value.type.name)")
            }
            return .pullAll(values)
        case .pop:
            guard value.isNumber else { throw OsmanthusError(.failedToParse, "Expected a number in: \(field): \(value)") }
            guard let direction = value.exactInt64, direction == 1 || direction == -1 else {
                throw OsmanthusError(.failedToParse, "$pop expects 1 or -1, found: \(value)")
            }
            return .pop(first: direction == -1)
        case .bit:
            return .bit(try bitOperations(value))
        }
    }

    private static func renameTarget(_ field: String, _ source: [String], _ value: BSONValue) throws -> [String] {
        guard case .string(let targetField) = value else {
            throw OsmanthusError(.badValue, "The 'to' field for $rename must be a string: \(field): \(value)")
        }
        let target = try path(targetField)
        if source.contains(where: UpdatePathResolver.isPositional) {
            throw OsmanthusError(.badValue, "The source field for $rename may not be dynamic: \(field)")
        }
        if target.contains(where: UpdatePathResolver.isPositional) {
            throw OsmanthusError(.badValue, "The destination field for $rename may not be dynamic: \(targetField)")
        }
        if source == target {
            throw OsmanthusError(.badValue, "The source and target field for $rename must differ: \(field): \"\(targetField)\"")
        }
        let a = FieldPath(components: source)
        let b = FieldPath(components: target)
        if a.isPrefix(of: b) || b.isPrefix(of: a) {
            throw OsmanthusError(
                .badValue, "The source and target field for $rename must not be on the same path: \(field): \"\(targetField)\"")
        }
        return target
    }

    private static func currentDateIsTimestamp(_ value: BSONValue) throws -> Bool {
        switch value {
        case .bool:
            return false
        case .document(let spec):
            guard spec.count == 1, case .string(let type)? = spec["$type"], type == "date" || type == "timestamp" else {
                throw OsmanthusError(
                    .badValue,
                    "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
            }
            return type == "timestamp"
        default:
            throw OsmanthusError(
                .badValue,
                "\(value.type.name) is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'})."
            )
        }
    }

    private static func bitOperations(_ value: BSONValue) throws -> [(UpdateAction.BitOperation, BSONValue)] {
        guard case .document(let operations) = value else {
            throw OsmanthusError(
                .badValue,
                "The $bit modifier is not compatible with a \(value.type.name). You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}")
        }
        return try operations.map { name, operand in
            guard let operation = UpdateAction.BitOperation(rawValue: name) else {
                throw OsmanthusError(
                    .badValue,
                    "The $bit modifier only supports 'and', 'or', and 'xor', not '\(name)' which is an unknown operator: {\(name): \(operand)}")
            }
            switch operand {
            case .int32, .int64: return (operation, operand)
            default:
                throw OsmanthusError(
                    .badValue,
                    "The $bit modifier field must be an Integer(32/64 bit); a '\(operand.type.name)' is not supported here: {\(name): \(operand)}")
            }
        }
    }

    /// Two actions on one path, or on a path and its prefix, conflict (positional components
    /// compared as written; conflicts between the concrete paths are found at apply time).
    static func checkConflicts(_ actions: [UpdateAction]) throws {
        // One-component paths conflict only when equal (as `isPrefix` compares components):
        // with none equal (the usual update of a few top-level fields) there is nothing to sort.
        if actions.allSatisfy({ action in
            guard action.path.count == 1 else { return false }
            if case .rename = action.kind { return false }
            return true
        }) {
            var distinct = true
            for i in actions.indices where distinct {
                for j in actions.indices where j > i && actions[i].path[0] == actions[j].path[0] { distinct = false }
            }
            if distinct { return }
        }
        var paths = [[String]]()
        for action in actions {
            paths.append(action.path)
            if case .rename(let target) = action.kind { paths.append(target) }
        }
        paths.sort { comparePaths($0, $1) < 0 }
        for (earlier, later) in zip(paths, paths.dropFirst())
        where FieldPath(components: earlier).isPrefix(of: FieldPath(components: later)) {
            throw OsmanthusError(
                .conflictingUpdateOperators,
                "Updating the path '\(later.joined(separator: "."))' would create a conflict at '\(earlier.joined(separator: "."))'")
        }
    }

    /// Every `$[id]` needs a filter, and every filter must be used.
    static func checkArrayFilters(_ actions: [UpdateAction], _ filters: ArrayFilterSet, _ spec: Document) throws {
        // No filters and no `$[...]` component: nothing is missing and nothing is unused.
        if filters.isEmpty, !actions.contains(where: { $0.path.contains(where: UpdatePathResolver.isArrayFilter) }) {
            return
        }
        var used = Set<String>()
        for action in actions {
            for component in action.path where UpdatePathResolver.isArrayFilter(component) {
                let identifier = UpdatePathResolver.identifier(component)
                guard !identifier.isEmpty else { continue }
                guard filters.hasFilter(identifier) else {
                    throw OsmanthusError(
                        .badValue,
                        "No array filter found for identifier '\(identifier)' in path '\(action.path.joined(separator: "."))'")
                }
                used.insert(identifier)
            }
        }
        for identifier in filters.identifiers.sorted() where !used.contains(identifier) {
            throw OsmanthusError(
                .failedToParse, "The array filter for identifier '\(identifier)' was not used in the update \(spec)")
        }
    }
}
