import OsmanthusBSON

/// A parsed update: operators (`{$set: ..., $inc: ...}`) or a replacement document
/// (SPEC.md §12).
///
/// Validation happens at init: unknown operators and malformed arguments (FailedToParse,
/// BadValue, TypeMismatch), bad paths (EmptyFieldName, DollarPrefixedFieldName), two
/// operators on one path or on a path and its prefix (ConflictingUpdateOperators), array
/// filters missing or unused. `apply` then follows MongoDB's update semantics: fields are
/// visited in path order (so new fields are appended in that order, existing ones stay in
/// place), missing documents are created along dotted paths, array indexes past the end pad
/// with nulls, and `_id` never changes (ImmutableField).
public struct Update: Sendable {
    enum Content: Sendable {
        case operators([UpdateAction])
        case replacement(Document)
        case pipeline(UpdatePipeline)
    }

    let content: Content
    let arrayFilters: ArrayFilterSet
    /// The update as given.
    public let spec: Document

    public init(_ spec: Document, arrayFilters: [Document] = []) throws {
        self.spec = spec
        self.arrayFilters = try ArrayFilterSet(arrayFilters)
        // The first key's first byte (after the length and the type byte), read in place.
        let operators = spec.withUnsafeBytes { b in b.count > 6 && b[4] != 0 && b[5] == UInt8(ascii: "$") }
        guard operators else {
            for key in spec.keys where key.hasPrefix("$") {
                throw OsmanthusError(
                    .dollarPrefixedFieldName,
                    "The dollar ($) prefixed field '\(key)' in '\(key)' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."
                )
            }
            guard arrayFilters.isEmpty else {
                throw OsmanthusError(.failedToParse, "arrayFilters may not be specified for a replacement-style update")
            }
            content = .replacement(spec)
            return
        }
        var actions = [UpdateAction]()
        for (name, argument) in spec {
            guard let op = UpdateOperator(rawValue: name) else {
                throw OsmanthusError(
                    .failedToParse,
                    "Unknown modifier: \(name). Expected a valid update modifier or pipeline-style update specified as an array")
            }
            guard case .document(let fields) = argument else {
                throw OsmanthusError(
                    .failedToParse,
                    "Modifiers operate on fields but we found type \(argument.type.name) instead. For example: {$mod: {<field>: ...}} not {\(name): \(argument)}"
                )
            }
            for (field, value) in fields {
                let path = try UpdateParser.path(field)
                actions.append(UpdateAction(op: op, path: path, kind: try UpdateParser.kind(op, field, path, value)))
            }
        }
        try UpdateParser.checkConflicts(actions)
        try UpdateParser.checkArrayFilters(actions, self.arrayFilters, spec)
        content = .operators(actions)
    }

    /// A pipeline-style update: `$addFields`/`$set`, `$unset`, `$project`, `$replaceRoot` and
    /// `$replaceWith` stages over aggregation expressions. The result keeps the original `_id`.
    public init(pipeline: [Document]) throws {
        spec = Document()
        arrayFilters = try ArrayFilterSet([])
        content = .pipeline(try UpdatePipeline(pipeline))
    }

    /// An update as a command carries it (`u` of an update statement): a document (operators
    /// or replacement) or an array (a pipeline).
    public init(specValue: BSONValue, arrayFilters: [Document] = []) throws {
        switch specValue {
        case .document(let document):
            try self.init(document, arrayFilters: arrayFilters)
        case .array(let stages):
            guard arrayFilters.isEmpty else {
                throw OsmanthusError(.failedToParse, "arrayFilters may not be specified for pipeline-style updates")
            }
            let documents = try stages.map { stage in
                guard case .document(let document) = stage else {
                    throw OsmanthusError(.typeMismatch, "Each element of the 'pipeline' array must be an object")
                }
                return document
            }
            try self.init(pipeline: documents)
        default:
            throw OsmanthusError(.failedToParse, "Update argument must be either an object or an array")
        }
    }

    /// Whether this is a pipeline-style update.
    public var isPipeline: Bool {
        if case .pipeline = content { return true }
        return false
    }

    public var isReplacement: Bool {
        if case .replacement = content { return true }
        return false
    }

    /// Applies to `doc`. `isInsert` enables $setOnInsert. `positionalIndex` comes from
    /// Filter.match for `$`. Throws ImmutableField (66) if _id would change, and MongoDB's
    /// errors for type problems. Returns the new document (`_id` first).
    public func apply(to doc: Document, isInsert: Bool = false, positionalIndex: Int? = nil, now: Int64) throws -> Document {
        switch content {
        case .replacement(let replacement):
            return try Update.replace(doc, with: replacement)
        case .operators(let actions):
            return try applyOperators(actions, to: doc, isInsert: isInsert, positionalIndex: positionalIndex, now: now)
        case .pipeline(let pipeline):
            return try Update.replace(doc, with: pipeline.apply(to: doc, now: now))
        }
    }

    private func applyOperators(
        _ actions: [UpdateAction], to doc: Document, isInsert: Bool, positionalIndex: Int?, now: Int64
    ) throws -> Document {
        let resolver = UpdatePathResolver(arrayFilters: arrayFilters, positionalIndex: positionalIndex)
        let environment = UpdateEnvironment(document: doc, now: now)
        var planned = [(path: [String], kind: UpdateAction.Kind, creates: Bool)]()
        for action in actions where action.op != .setOnInsert || isInsert {
            if case .rename(let target) = action.kind {
                guard let value = try Update.renameSource(action.path, target, in: doc, environment) else { continue }
                planned.append((action.path, .renameSource, false))
                planned.append((target, .set(value), true))
                continue
            }
            for path in try resolver.expand(action.path, in: doc) {
                planned.append((path, action.kind, action.creates))
            }
        }
        // MongoDB's update tree visits fields in path order: a path right before its
        // descendants, so any conflict is between neighbours.
        let order = planned.indices.sorted { a, b in
            let c = comparePaths(planned[a].path, planned[b].path)
            return c != 0 ? c < 0 : a < b
        }
        var root = BSONValue.document(doc)
        let editor = DocumentEditor(environment: environment)
        var previous: [String]?
        for index in order {
            let entry = planned[index]
            if let previous, FieldPath(components: previous).isPrefix(of: FieldPath(components: entry.path)) {
                throw OsmanthusError(
                    .conflictingUpdateOperators, "Update created a conflict at '\(entry.path.joined(separator: "."))'")
            }
            previous = entry.path
            try editor.apply(entry.kind, creates: entry.creates, at: entry.path, in: &root)
        }
        guard case .document(let result) = root else { return doc }
        if let id = doc["_id"], result["_id"] != id {
            throw OsmanthusError(.immutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
        }
        return try Update.finish(result)
    }

    /// The value a `$rename` moves, or nil when the source is missing. Neither path may go
    /// through an array.
    private static func renameSource(
        _ source: [String], _ target: [String], in doc: Document, _ environment: UpdateEnvironment
    ) throws -> BSONValue? {
        func walk(_ path: [String], _ role: String) throws -> BSONValue? {
            var current = BSONValue.document(doc)
            for (depth, component) in path.enumerated() {
                guard case .document(let fields) = current, let next = fields[component] else { return nil }
                if case .array = next, depth < path.count - 1 {
                    let arrayPath = path[...depth].joined(separator: ".")
                    throw OsmanthusError(
                        .badValue,
                        "The \(role) field cannot be an array element, '\(path.joined(separator: "."))' in doc with \(environment.idText) has an array field called '\(arrayPath)'"
                    )
                }
                current = next
            }
            return current
        }
        _ = try walk(target, "destination")
        return try walk(source, "source")
    }

    /// A replacement keeps the original `_id` (first), which the replacement may repeat but
    /// not change.
    static func replace(_ doc: Document, with replacement: Document) throws -> Document {
        var result = Document()
        let newId = replacement["_id"]
        if let oldId = doc["_id"] {
            if let newId, newId != oldId {
                throw OsmanthusError(
                    .immutableField,
                    "After applying the update, the (immutable) field '_id' was found to have been altered to _id: \(newId)")
            }
            result.append("_id", oldId)
        } else if let newId {
            result.append("_id", newId)
        }
        for (key, value) in replacement where key != "_id" { result.append(key, value) }
        return try finish(result)
    }

    /// Checks the `_id` a document may be stored with, and moves it first.
    private static func finish(_ document: Document) throws -> Document {
        guard let id = document["_id"] else { return document }
        switch id {
        case .array, .regex, .undefined:
            throw OsmanthusError(.invalidIdField, "The '_id' value cannot be of type \(id.type.name)")
        default:
            break
        }
        if document.firstKey == "_id" { return document }
        var reordered = Document([("_id", id)])
        for (key, value) in document where key != "_id" { reordered.append(key, value) }
        return reordered
    }
}
