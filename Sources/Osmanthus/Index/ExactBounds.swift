import OsmanthusBSON

/// Whether an index plan's key intervals select exactly the documents the filter matches, so
/// that entries need no residual filter (SPEC.md §11.6). Bounds are normally only a superset;
/// they are exact when every condition of the filter is one the bounds encode in full:
/// `$eq`/`$in` on the leading fields (one condition each), then `$gte`/`$lte` on the next
/// (`$gt`'s and `$lt`'s bounds include the value's own keys; on a descending field an explicit
/// `$lte` is needed), with values whose key encoding is exact, on an
/// index that is not multikey. Two stored values still break exactness per entry (Decimal128,
/// placed by its nearest double, and NaN, which sorts inside the number bracket):
/// `entryIsExact` finds them in the entry's value and the scan checks those with the filter.
enum ExactBounds {
    static func isExact(_ filter: Filter, spec: IndexSpec, bounds: IndexBounds) -> Bool {
        guard !spec.multikey else { return false }
        var leaves: [(String, LeafPredicate)] = []
        guard collect(filter.root, &leaves), !leaves.isEmpty else { return false }
        let used = bounds.pointFields + (bounds.hasRange ? 1 : 0)
        guard used <= spec.fields.count else { return false }
        var consumed = 0
        for (i, field) in spec.fields.prefix(used).enumerated() {
            let preds = leaves.filter { $0.0 == field.path }.map(\.1)
            consumed += preds.count
            if i < bounds.pointFields {
                guard preds.count == 1 else { return false }
                switch preds[0] {
                case .compare(.eq, let v): guard exactValue(v) else { return false }
                case .in(let set):
                    guard set.regexes.isEmpty, !set.values.isEmpty, set.values.allSatisfy(exactValue) else { return false }
                default: return false
                }
            } else {
                // The range field: at most one lower and one upper bound, in one type bracket.
                var lower = 0
                var upper = 0
                var rank: UInt8?
                for p in preds {
                    guard case .compare(let op, let v) = p, exactValue(v) else { return false }
                    switch op {
                    case .gte: lower += 1
                    case .lte: upper += 1
                    case .gt, .lt, .eq: return false
                    }
                    let r = KeyEncoder.rank(of: v).rawValue
                    if let rank, rank != r { return false }
                    rank = r
                }
                guard lower <= 1, upper <= 1, lower + upper > 0 else { return false }
                // Descending: the interval starts at the upper bound's complement, which is exact
                // only for an explicit `$lte` (a one-sided start would take in more keys).
                if !field.ascending, upper != 1 { return false }
            }
        }
        return consumed == leaves.count
    }

    /// The filter's conditions when it is a conjunction of plain-path leaves.
    private static func collect(_ node: MatchNode, _ out: inout [(String, LeafPredicate)]) -> Bool {
        switch node {
        case .and(let children): return children.allSatisfy { collect($0, &out) }
        case .or(let children) where children.count == 1: return collect(children[0], &out)
        case .leaf(let path, .traverse, let predicate) where !path.isEmpty:
            out.append((path.joined(separator: "."), predicate))
            return true
        default: return false
        }
    }

    /// Values whose key encoding orders and equates exactly as the filter compares them.
    static func exactValue(_ v: BSONValue) -> Bool {
        switch v {
        case .int32, .int64, .string, .objectId, .bool, .datetime: true
        case .double(let d): !d.isNaN
        default: false
        }
    }

    /// Whether an entry's value (`u32be(len(pk)) ‖ pk ‖ BSON`) holds no Decimal128 and no NaN,
    /// read in place; false also when the bytes are not the expected shape.
    static func entryIsExact(_ v: UnsafeRawBufferPointer) -> Bool {
        guard v.count >= 4 else { return false }
        let n = Int(v[0]) << 24 | Int(v[1]) << 16 | Int(v[2]) << 8 | Int(v[3])
        var i = 4 + n + 4  // past the primary key and the document's length
        let end = v.count - 1  // the document's trailing 0
        func int32(at p: Int) -> Int? {
            guard p + 4 <= v.count else { return nil }
            return Int(Int32(bitPattern: UInt32(v[p]) | UInt32(v[p + 1]) << 8 | UInt32(v[p + 2]) << 16 | UInt32(v[p + 3]) << 24))
        }
        while i < end {
            let type = v[i]
            i += 1
            while i < end, v[i] != 0 { i += 1 }  // the name
            i += 1
            let size: Int
            switch type {
            case 0x01:
                guard i + 8 <= v.count else { return false }
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(v[i + k]) << (8 * k) }
                if Double(bitPattern: bits).isNaN { return false }
                size = 8
            case 0x02, 0x0D, 0x0E:
                guard let l = int32(at: i) else { return false }
                size = 4 + l
            case 0x03, 0x04:
                guard let l = int32(at: i) else { return false }
                size = l
            case 0x05:
                guard let l = int32(at: i) else { return false }
                size = 5 + l
            case 0x06, 0x0A, 0x7F, 0xFF: size = 0
            case 0x07: size = 12
            case 0x08: size = 1
            case 0x09, 0x11, 0x12: size = 8
            case 0x10: size = 4
            default: return false  // Decimal128 (0x13) and rarer types: check with the filter
            }
            guard size >= 0 else { return false }
            i += size
        }
        return i == end
    }
}
