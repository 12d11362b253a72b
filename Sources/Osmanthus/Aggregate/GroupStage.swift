import OsmanthusBSON

/// `$group` (and the grouping half of `$bucket` and `$sortByCount`): documents hashed by the
/// order-preserving key encoding of their `_id` value (so 1, 1.0 and 1L fall in one group, as
/// MongoDB's equality says), accumulators folded per group, groups output in first-seen order.
/// Every group and every accumulated value is charged to the stage's memory budget.
struct GroupStage: Sendable {
    let key: @Sendable (ExpressionContext) throws -> BSONValue?
    let accumulators: [Accumulator]
    let name: String

    init(_ spec: BSONValue) throws {
        guard case .document(let fields) = spec else {
            throw OsmanthusError(.location(15947), "a group's fields must be specified in an object")
        }
        guard let id = fields["_id"] else {
            throw OsmanthusError(.location15955, "a group specification must include an _id")
        }
        let expression = try Expression(id)
        key = { try expression.evaluate(in: $0) }
        accumulators = try fields.filter { $0.key != "_id" }.map { try Accumulator(field: $0.key, spec: $0.value) }
        name = "$group"
    }

    init(name: String, key: @escaping @Sendable (ExpressionContext) throws -> BSONValue?, accumulators: [Accumulator]) {
        self.name = name
        self.key = key
        self.accumulators = accumulators
    }

    func run(_ input: DocumentStream, _ context: PipelineContext) throws -> [Document] {
        var budget = MemoryBudget(stage: name, limit: context.options.memoryLimit)
        var slots: [[UInt8]: Int] = [:]
        var ids: [BSONValue] = []
        var states: [[AccumulatorState]] = []
        let fresh = accumulators.map { $0.makeState() }
        while let document = try input.next() {
            let scope = context.scope(document)
            let id = try key(scope) ?? .null
            let encoded = KeyEncoder.encode(id)
            let slot: Int
            if let existing = slots[encoded] {
                slot = existing
            } else {
                slot = ids.count
                slots[encoded] = slot
                ids.append(id)
                states.append(fresh)
                try budget.charge(encoded.count + MemoryBudget.size(of: id) + MemoryBudget.overhead * (accumulators.count + 2))
            }
            for index in accumulators.indices {
                let value = try accumulators[index].expression?.evaluate(in: scope)
                let grown = states[slot][index].add(value)
                if grown > 0 { try budget.charge(grown) }
            }
        }
        var output = [Document]()
        output.reserveCapacity(ids.count)
        for (slot, id) in ids.enumerated() {
            var document = Document()
            document.append("_id", id)
            for (index, accumulator) in accumulators.enumerated() {
                document.append(accumulator.field, states[slot][index].result())
            }
            output.append(document)
        }
        return output
    }
}
