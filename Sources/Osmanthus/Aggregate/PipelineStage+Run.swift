import OsmanthusBSON

/// How each stage turns its input stream into its output stream. Streaming stages pull one
/// document at a time; blocking stages (`$group`, `$sort`, `$bucket`, `$facet`, `$sample`,
/// `$count`) do their work on the first pull, within their memory budget.
extension PipelineStage {
    func stream(_ input: DocumentStream, _ context: PipelineContext) throws -> DocumentStream {
        switch self {
        case .match(let filter):
            return DocumentStream {
                while let document = try input.next() {
                    if filter.matches(document) { return document }
                }
                return nil
            }
        case .reshape(let pipeline):
            return DocumentStream {
                guard let document = try input.next() else { return nil }
                return try pipeline.apply(to: document, now: context.now)
            }
        case .group(let group):
            return Self.blocking { try group.run(input, context) }
        case .bucket(let bucket):
            return Self.blocking { try bucket.run(input, context) }
        case .sort(let sort):
            return Self.blocking { try sort.run(input, memoryLimit: context.options.memoryLimit) }
        case .limit(let n):
            var remaining = n
            return DocumentStream {
                guard remaining > 0 else { return nil }
                remaining -= 1
                return try input.next()
            }
        case .skip(let n):
            var toSkip = n
            return DocumentStream {
                while toSkip > 0 {
                    toSkip -= 1
                    guard try input.next() != nil else { return nil }
                }
                return try input.next()
            }
        case .unwind(let unwind):
            return unwind.stream(input)
        case .count(let field):
            return Self.blocking {
                var n = 0
                while try input.next() != nil { n += 1 }
                guard n > 0 else { return [] }
                return [[field: Int32(exactly: n).map { .int32($0) } ?? .int64(Int64(n))]]
            }
        case .lookup(let lookup):
            return try lookup.stream(input, context)
        case .facet(let facets):
            return Self.blocking {
                var budget = MemoryBudget(stage: "$facet", limit: context.options.memoryLimit)
                var documents = [Document]()
                while let document = try input.next() {
                    try budget.charge(MemoryBudget.size(of: document))
                    documents.append(document)
                }
                var output = Document()
                for (name, pipeline) in facets {
                    let results = try pipeline.stream(DocumentStream(documents), context)
                    var values = [BSONValue]()
                    while let document = try results.next() {
                        try budget.charge(MemoryBudget.size(of: document))
                        values.append(.document(document))
                    }
                    output.append(name, .array(values))
                }
                return [output]
            }
        case .sample(let size):
            return Self.blocking { try Self.sample(input, size, context) }
        case .out(let out):
            return Self.blocking {
                try out.write(input, context)
                return []
            }
        case .documents(let expression):
            return DocumentStream(try Self.documentsValue(expression, context))
        }
    }

    /// A stream whose documents are computed, all at once, on the first pull.
    static func blocking(_ compute: @escaping () throws -> [Document]) -> DocumentStream {
        var results: [Document]?
        var index = 0
        return DocumentStream {
            if results == nil { results = try compute() }
            guard let documents = results, index < documents.count else {
                results = []
                return nil
            }
            defer { index += 1 }
            return documents[index]
        }
    }

    /// Reservoir sampling: `size` documents chosen uniformly without replacement, holding no
    /// more than `size` documents at a time.
    private static func sample(_ input: DocumentStream, _ size: Int, _ context: PipelineContext) throws -> [Document] {
        guard size > 0 else { return [] }
        var budget = MemoryBudget(stage: "$sample", limit: context.options.memoryLimit)
        var reservoir = [Document]()
        var seen = 0
        var generator = SystemRandomNumberGenerator()
        while let document = try input.next() {
            seen += 1
            if reservoir.count < size {
                try budget.charge(MemoryBudget.size(of: document))
                reservoir.append(document)
            } else {
                let slot = Int.random(in: 0..<seen, using: &generator)
                if slot < size {
                    budget.release(MemoryBudget.size(of: reservoir[slot]))
                    try budget.charge(MemoryBudget.size(of: document))
                    reservoir[slot] = document
                }
            }
        }
        reservoir.shuffle(using: &generator)
        return reservoir
    }

    /// The value of `$documents`' expression (evaluated once, with no current document): an
    /// array of documents, else Location5858203.
    static func documentsValue(_ expression: Expression, _ context: PipelineContext) throws -> [Document] {
        let value = try expression.evaluate(in: context.scope(Document()))
        guard case .array(let items)? = value else {
            throw OsmanthusError(.location(5858203), "error during evaluation of $documents: an array is expected")
        }
        return try items.map { item in
            guard case .document(let d) = item else {
                throw OsmanthusError(.location(5858203), "error during evaluation of $documents: an array of objects is expected, found \(item.type.name)")
            }
            return d
        }
    }
}
