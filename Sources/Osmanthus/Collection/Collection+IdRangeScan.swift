import OsmanthusBSON
import OsmanthusStorage

/// The lean range scan by `_id`: a filter that is exactly `{_id: {$gte: s, $lte: t}}` (either
/// or both, strings) with no sort, projection or hint reads its key range straight away, with
/// no Filter, planner or plan (YCSB E's scans; about a sixth of a short scan's cost).
///
/// It takes the plan the planner would: the range is exactly the filter's matches
/// (`idRangeIsExact`), and no index can be chosen over it because none holds `_id` (checked);
/// a collection keyed by other fields, or missing, takes the general path.
extension Collection {
    /// The string bounds of a filter that is exactly `{_id: {$gte: s, $lte: t}}` (either or
    /// both, each once), read from the document without parsing it; nil for anything else.
    static func exactIdRangeBounds(_ filter: Document) -> (lower: String?, upper: String?)? {
        var fields = filter.makeIterator()
        guard let (field, value) = fields.next(), field == "_id", fields.next() == nil,
            case .document(let ops) = value
        else { return nil }
        var lower: String?
        var upper: String?
        var any = false
        for (op, bound) in ops {
            guard case .string(let s) = bound else { return nil }
            switch op {
            case "$gte" where lower == nil: lower = s
            case "$lte" where upper == nil: upper = s
            default: return nil  // another operator, or one given twice
            }
            any = true
        }
        return any ? (lower, upper) : nil
    }

    /// A cursor over the key range of an exact string `_id` range filter, or nil when the find
    /// must take the general path.
    func idRangeCursor(_ filter: Document, options: FindOptions) throws -> Cursor? {
        guard options.sort == nil, options.projection == nil, options.hint == nil,
            let (lower, upper) = Self.exactIdRangeBounds(filter), let (entry, ready) = readState(),
            entry.options.partitionKey == nil,
            !ready.contains(where: { spec in spec.fields.contains { $0.path == "_id" || $0.path.hasPrefix("_id.") } })
        else { return nil }
        // As `idRange` builds them: from the lower bound's key (or the string bracket's start) to
        // one past the upper bound's key (or the bracket's end).
        let prefix = entry.documentPrefix
        var start = prefix
        if let lower { start.append(contentsOf: KeyEncoder.encode(.string(lower))) } else { start.append(Self.stringRank) }
        var end = prefix
        if let upper {
            end.append(contentsOf: KeyEncoder.encode(.string(upper)))
            end.append(0)
        } else {
            end.append(Self.stringRank + 1)
        }
        let it = storage.makeIterator(options: ReadOptions(), lowerBound: start, upperBound: end)
        it.seek(start)
        return Cursor(
            source: .scan(ScanSource(iterator: it, prefix: prefix, end: end)), filter: nil, projection: nil,
            skip: options.skip, limit: options.limit, sourceIsExact: true)
    }

    /// The key encoding's first byte for strings (their bracket).
    static let stringRank: UInt8 = KeyEncoder.encode(.string(""))[0]
}
