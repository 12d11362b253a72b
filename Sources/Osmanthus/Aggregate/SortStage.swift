import OsmanthusBSON

/// `$sort` (and a find's in-memory sort), optionally with the `$limit` that follows it folded in. With a limit k it keeps
/// a bounded top-k (at most 2k documents held, pruned by a partial sort), otherwise it sorts
/// everything it holds within the memory budget. Ties keep input order (a stable sort), as
/// MongoDB's sort of equal keys is unspecified but stable in practice.
struct SortStage: Sendable {
    let spec: SortSpec
    let specDocument: Document
    var limit: Int?

    init(_ argument: BSONValue) throws {
        guard case .document(let document) = argument, !document.isEmpty else {
            throw OsmanthusError(.location(15973), "the $sort key specification must be an object")
        }
        spec = try SortSpec(document)
        specDocument = document
        if spec.isEmpty {
            throw OsmanthusError(.location(15976), "$sort stage must have at least one sort key")
        }
    }

    init(spec: SortSpec, document: Document) {
        self.spec = spec
        specDocument = document
    }

    private struct Entry {
        let key: [BSONValue]
        let sequence: Int
        let document: Document
    }

    func run(_ input: DocumentStream, memoryLimit: Int) throws -> [Document] {
        var budget = MemoryBudget(stage: "$sort", limit: memoryLimit)
        var entries = [Entry]()
        var sequence = 0
        let keep = limit ?? Int.max
        while let document = try input.next() {
            let entry = Entry(key: spec.sortKey(document), sequence: sequence, document: document)
            sequence += 1
            entries.append(entry)
            try budget.charge(cost(entry))
            if keep < Int.max / 2, entries.count >= 2 * keep {
                sortEntries(&entries)
                let dropped = entries[keep...].reduce(0) { $0 + cost($1) }
                entries.removeSubrange(keep...)
                budget.release(dropped)
            }
        }
        sortEntries(&entries)
        if entries.count > keep { entries.removeSubrange(keep...) }
        return entries.map(\.document)
    }

    private func cost(_ entry: Entry) -> Int {
        MemoryBudget.size(of: entry.document) + entry.key.reduce(0) { $0 + MemoryBudget.size(of: $1) }
    }

    private func sortEntries(_ entries: inout [Entry]) {
        entries.sort { a, b in
            let order = spec.compareKeys(a.key, b.key)
            return order != 0 ? order < 0 : a.sequence < b.sequence
        }
    }
}
