import OsmanthusBSON

/// `$lookup` from a collection of the same database.
///
/// Equality form (`localField`/`foreignField`): a hash join. The foreign collection is read
/// once, on the first input document, into a table keyed by the order-preserving encoding of
/// each `foreignField` value (array elements each; missing as null), charged to the memory
/// budget. A local array matches through its elements; a missing local value matches null.
///
/// Pipeline form (`let`/`pipeline`): the `let` variables are evaluated against the input
/// document and bound into the sub-pipeline as literals, which then runs over the foreign
/// collection (its leading `$match` pushed into a find). Without `let` the sub-pipeline does
/// not depend on the input, so it runs once. Both forms together: the sub-pipeline runs over
/// the equality matches.
final class LookupStage: Sendable {
    let from: String
    let asPath: [String]
    let localField: [String]?
    let foreignField: String?
    let variables: [(name: String, expression: Expression)]
    let pipeline: [Document]?
    /// The sub-pipeline, parsed once when it has no variables to bind.
    let fixedPipeline: Pipeline?

    init(_ argument: BSONValue) throws {
        guard case .document(let spec) = argument else {
            throw OsmanthusError(.location(15954), "the $lookup specification must be an Object")
        }
        for key in spec.keys where !["from", "as", "localField", "foreignField", "let", "pipeline"].contains(key) {
            throw OsmanthusError(.location(4_570_500), "unknown argument to $lookup: \(key)")
        }
        guard case .string(let from)? = spec["from"], !from.isEmpty else {
            throw OsmanthusError(.failedToParse, "$lookup requires a 'from' collection name string")
        }
        guard case .string(let asField)? = spec["as"], !asField.isEmpty, !asField.hasPrefix("$") else {
            throw OsmanthusError(.failedToParse, "must specify 'as' field for a $lookup")
        }
        self.from = from
        asPath = FieldPath(asField).components
        switch (spec["localField"], spec["foreignField"]) {
        case (.string(let local)?, .string(let foreign)?):
            localField = FieldPath(local).components
            foreignField = foreign
        case (nil, nil):
            localField = nil
            foreignField = nil
        default:
            throw OsmanthusError(.failedToParse, "$lookup requires both or neither of 'localField' and 'foreignField' to be strings")
        }
        var variables = [(name: String, expression: Expression)]()
        if let lets = spec["let"] {
            guard case .document(let fields) = lets else {
                throw OsmanthusError(.failedToParse, "$lookup argument 'let' must be an object")
            }
            for (name, value) in fields {
                try ExpressionOperator.checkVariableName(name)
                variables.append((name, try Expression(value)))
            }
        }
        self.variables = variables
        if let stages = spec["pipeline"] {
            guard case .array(let elements) = stages else {
                throw OsmanthusError(.failedToParse, "$lookup argument 'pipeline' must be an array")
            }
            let documents = try elements.map { element -> Document in
                guard case .document(let stage) = element else {
                    throw OsmanthusError(.failedToParse, "$lookup pipeline stages must be objects")
                }
                if stage.keys.first == "$out" {
                    throw OsmanthusError(.location(51047), "$out is not allowed within a $lookup's sub-pipeline")
                }
                return stage
            }
            pipeline = documents
            // Parsed now even with variables, so errors show before any document is read.
            let bound = try LookupStage.bind(documents, Dictionary(uniqueKeysWithValues: variables.map { ($0.name, BSONValue.null) }))
            let parsed = try Pipeline(bound)
            fixedPipeline = variables.isEmpty ? parsed : nil
        } else {
            guard localField != nil else {
                throw OsmanthusError(.failedToParse, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField'")
            }
            pipeline = nil
            fixedPipeline = nil
        }
    }

    func stream(_ input: DocumentStream, _ context: PipelineContext) throws -> DocumentStream {
        let foreign = context.database.collection(from, in: context.databaseName)
        var table: HashTable?
        var uncorrelated: [Document]?
        return DocumentStream { [self] in
            guard let document = try input.next() else { return nil }
            var matches: [Document]
            if let localField, let foreignField {
                if table == nil { table = try HashTable(foreign, field: foreignField, context) }
                matches = table?.matches(Expression.value(at: localField[...], in: .document(document))) ?? []
                if pipeline != nil {
                    matches = try collect(try subPipeline(for: document, context).stream(DocumentStream(matches), context))
                }
            } else if let fixedPipeline {
                if uncorrelated == nil { uncorrelated = try collect(try fixedPipeline.stream(over: foreign, context)) }
                matches = uncorrelated ?? []
            } else {
                matches = try collect(try subPipeline(for: document, context).stream(over: foreign, context))
            }
            return UpdatePipeline.set(.array(matches.map { .document($0) }), at: asPath[...], in: document)
        }
    }

    private func collect(_ stream: DocumentStream) throws -> [Document] {
        var documents = [Document]()
        var bytes = 0
        while let document = try stream.next() {
            documents.append(document)
            bytes += document.byteCount
            if bytes > BSONLimits.maxDocumentSize {
                throw OsmanthusError(.bsonObjectTooLarge, "$lookup: the '\(asPath.joined(separator: "."))' array exceeds the maximum document size")
            }
        }
        return documents
    }

    private func subPipeline(for document: Document, _ context: PipelineContext) throws -> Pipeline {
        if let fixedPipeline { return fixedPipeline }
        let scope = context.scope(document)
        // A variable whose expression is missing stays bound (to missing), hence the double optional.
        var values = [String: BSONValue?]()
        for (name, expression) in variables { values[name] = .some(try expression.evaluate(in: scope)) }
        return try Pipeline(try LookupStage.bind(pipeline ?? [], values))
    }

    /// Replaces `$$name` and `$$name.path` of the bound variables by `{$literal: value}`
    /// (`$$REMOVE` when the value is missing), leaving `$literal` arguments alone and respecting
    /// inner bindings of the same name (`$map`/`$filter` `as`, `$let` `vars`, a nested
    /// `$lookup`'s `let`), which shadow the outer variable in their scope.
    static func bind(_ stages: [Document], _ values: [String: BSONValue?]) throws -> [Document] {
        stages.map { substitute(.document($0), values).documentValue ?? $0 }
    }

    private static func substitute(_ value: BSONValue, _ values: [String: BSONValue?]) -> BSONValue {
        guard !values.isEmpty else { return value }
        switch value {
        case .string(let text) where text.hasPrefix("$$"):
            let parts = text.dropFirst(2).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard let bound = values[parts[0]] else { return value }
            guard let resolved = Expression.value(at: parts.dropFirst(), in: bound) else { return "$$REMOVE" }
            return .document(["$literal": resolved])
        case .document(let fields):
            if fields.count == 1, let op = fields.keys.first, let argument = fields[op] {
                if op == "$literal" { return value }
                if let scoped = substituteScoped(op, argument, values) { return .document([op: scoped]) }
            }
            return .document(Document(fields.map { ($0.key, substitute($0.value, values)) }))
        case .array(let elements):
            return .array(elements.map { substitute($0, values) })
        default:
            return value
        }
    }

    /// The argument of an operator that binds names: the binding expressions see the outer
    /// variables, the scope sees them minus the names bound here.
    private static func substituteScoped(_ op: String, _ argument: BSONValue, _ values: [String: BSONValue?]) -> BSONValue? {
        guard case .document(let fields) = argument else { return nil }
        let bindingKeys: Set<String>
        var bound = Set<String>()
        switch op {
        case "$map", "$filter":
            bindingKeys = ["input"]
            bound.insert(fields["as"]?.stringValue ?? "this")
        case "$let":
            bindingKeys = ["vars"]
            bound.formUnion(fields["vars"]?.documentValue?.keys ?? [])
        case "$lookup":
            bindingKeys = ["let"]
            bound.formUnion(fields["let"]?.documentValue?.keys ?? [])
        default:
            return nil
        }
        let inner = values.filter { !bound.contains($0.key) }
        return .document(Document(fields.map { key, field in
            (key, substitute(field, bindingKeys.contains(key) ? values : inner))
        }))
    }

    /// The foreign documents by encoded `foreignField` value.
    private struct HashTable {
        var documents = [Document]()
        var slots = [[UInt8]: [Int]]()

        init(_ collection: Collection, field: String, _ context: PipelineContext) throws {
            var budget = MemoryBudget(stage: "$lookup", limit: context.options.memoryLimit)
            let cursor = try collection.find()
            while let document = try cursor.next() {
                try budget.charge(MemoryBudget.size(of: document))
                var values = DocumentPath.values(in: document, at: field)
                if values.isEmpty { values = [.null] }
                var keys = Set<[UInt8]>()
                for value in values { keys.insert(KeyEncoder.encode(value)) }
                for key in keys {
                    slots[key, default: []].append(documents.count)
                    try budget.charge(key.count + MemoryBudget.overhead)
                }
                documents.append(document)
            }
        }

        func matches(_ local: BSONValue?) -> [Document] {
            let values: [BSONValue]
            switch local {
            case nil: values = [.null]
            case .array(let elements)?: values = elements
            case let value?: values = [value]
            }
            var hits = Set<Int>()
            for value in values { hits.formUnion(slots[KeyEncoder.encode(value)] ?? []) }
            return hits.sorted().map { documents[$0] }
        }
    }
}
