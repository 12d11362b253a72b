import OsmanthusBSON

/// A pipeline-style update (`[{$set: ...}, {$unset: ...}]`, MongoDB 4.2+): the stages an update
/// may use — `$addFields`/`$set`, `$unset`, `$project`, `$replaceRoot`/`$replaceWith` — over
/// aggregation expressions, which see the document as it enters each stage.
struct UpdatePipeline: Sendable {
    enum Stage: Sendable {
        /// Paths (nested specs flattened) and the expressions computing them.
        case addFields([(path: [String], expression: Expression)])
        case unset([[String]])
        case project(Projection)
        case replaceRoot(Expression)
    }

    let stages: [Stage]

    init(_ documents: [Document]) throws {
        stages = try documents.map { stage in
            guard stage.count == 1, let name = stage.keys.first, let argument = stage[name] else {
                throw OsmanthusError(.failedToParse, "A pipeline stage specification object must contain exactly one field.")
            }
            switch name {
            case "$addFields", "$set":
                guard case .document(let fields) = argument else {
                    throw OsmanthusError(.failedToParse, "\(name) specification stage must be an object, got \(argument.type.name)")
                }
                var entries = [(path: [String], expression: Expression)]()
                try UpdatePipeline.flatten(fields, prefix: [], into: &entries)
                return .addFields(entries)
            case "$unset":
                let names: [BSONValue]
                switch argument {
                case .string: names = [argument]
                case .array(let list): names = list
                default: throw OsmanthusError(.failedToParse, "$unset specification must be a string or an array")
                }
                return .unset(try names.map { name in
                    guard case .string(let path) = name, !path.isEmpty, !path.hasPrefix("$") else {
                        throw OsmanthusError(.failedToParse, "$unset specification must be a string or an array containing only string values")
                    }
                    return FieldPath(path).components
                })
            case "$project":
                guard case .document(let spec) = argument, !spec.isEmpty else {
                    throw OsmanthusError(.failedToParse, "$project specification must be a non-empty object")
                }
                return .project(try Projection(spec, aggregation: true))
            case "$replaceRoot":
                guard case .document(let spec) = argument, let newRoot = spec["newRoot"] else {
                    throw OsmanthusError(.failedToParse, "no newRoot specified for the $replaceRoot stage")
                }
                return .replaceRoot(try Expression(newRoot))
            case "$replaceWith":
                return .replaceRoot(try Expression(argument))
            default:
                throw OsmanthusError(.failedToParse, "\(name) is not allowed to be used within an update")
            }
        }
    }

    /// `{a: {b: expr}}` sets `a.b` (merging into an existing `a`); operator documents and
    /// empty documents are values.
    private static func flatten(
        _ fields: Document, prefix: [String], into entries: inout [(path: [String], expression: Expression)]
    ) throws {
        for (key, value) in fields {
            let path = prefix + FieldPath(key).components
            for component in path { try Expression.validateFieldName(component) }
            if case .document(let nested) = value, !nested.isEmpty, !FilterParser.isOperatorDocument(nested) {
                try flatten(nested, prefix: path, into: &entries)
            } else {
                entries.append((path, try Expression(value)))
            }
        }
    }

    func apply(to document: Document, now: Int64) throws -> Document {
        var current = document
        for stage in stages {
            let context = ExpressionContext(root: current, now: now)
            switch stage {
            case .addFields(let entries):
                let values = try entries.map { try $0.expression.evaluate(in: context) }
                for (entry, value) in zip(entries, values) {
                    current = UpdatePipeline.set(value, at: entry.path[...], in: current)
                }
            case .unset(let paths):
                for path in paths { current = UpdatePipeline.set(nil, at: path[...], in: current) }
            case .project(let projection):
                current = try projection.apply(to: current, filter: nil)
            case .replaceRoot(let expression):
                guard case .document(let root)? = try expression.evaluate(in: context) else {
                    let value = try expression.evaluate(in: context)
                    throw OsmanthusError(
                        .badValue,
                        "'newRoot' expression must evaluate to an object, but resulting value was: \(value.map { "\($0)" } ?? "MISSING"). Type of resulting value: '\(value?.type.name ?? "missing")'."
                    )
                }
                current = root
            }
        }
        return current
    }

    /// Sets (or with nil removes) `path` the way `$addFields`/`$unset` do: arrays along the path
    /// apply the rest of the path to each element; a scalar in the way is replaced by a document.
    static func set(_ value: BSONValue?, at path: ArraySlice<String>, in document: Document) -> Document {
        guard let key = path.first else { return document }
        var result = document
        if path.count == 1 {
            if let value { result.set(key, value) } else { result.remove(key) }
            return result
        }
        let rest = path.dropFirst()
        switch document[key] {
        case .document(let child)?:
            result.set(key, .document(set(value, at: rest, in: child)))
        case .array(let elements)?:
            result.set(key, .array(setInElements(value, at: rest, elements)))
        default:
            guard let value else { return document }
            result.set(key, .document(set(value, at: rest, in: Document())))
        }
        return result
    }

    private static func setInElements(_ value: BSONValue?, at path: ArraySlice<String>, _ elements: [BSONValue]) -> [BSONValue] {
        elements.map { element in
            switch element {
            case .document(let child): .document(set(value, at: path, in: child))
            case .array(let inner): .array(setInElements(value, at: path, inner))
            default: value == nil ? element : .document(set(value, at: path, in: Document()))
            }
        }
    }
}
