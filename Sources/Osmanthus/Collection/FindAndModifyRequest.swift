import OsmanthusBSON

/// findAndModify's arguments parsed and checked once, and the steps `Collection` and
/// `TransactionCollection` share: which match is first, and what the reply shows of it.
struct FindAndModifyRequest {
    let filter: Filter
    let projection: Projection?
    let sort: SortSpec?
    /// nil with `remove`.
    let update: Update?

    init(_ filter: Document, _ options: FindAndModifyOptions) throws {
        self.filter = try Filter(filter)
        projection = try options.projection.map { try Projection($0) }
        sort = try options.sort.map { try SortSpec($0) }
        if options.remove && (options.update != nil || options.upsert || options.returnNew) {
            throw OsmanthusError(.failedToParse, "remove cannot be combined with update, upsert or new")
        }
        guard options.remove || options.update != nil else {
            throw OsmanthusError(.failedToParse, "Either an update or remove=true must be specified")
        }
        update = try options.update.map { try Update($0, arrayFilters: options.arrayFilters) }
    }

    /// The first of `matches` (in key order) by the sort, ties kept in key order.
    func first(of matches: [([UInt8], Document)]) -> ([UInt8], Document)? {
        guard let sort, !sort.isEmpty else { return matches.first }
        return matches.enumerated().min { a, b in
            let c = sort.compare(a.element.1, b.element.1)
            return c != 0 ? c < 0 : a.offset < b.offset
        }?.element
    }

    /// `document` as the reply shows it (projected), nil stays nil.
    func shown(_ document: Document?) throws -> Document? {
        guard let document else { return nil }
        return try projection?.apply(to: document, filter: filter) ?? document
    }
}
