import OsmanthusBSON

/// The entries one document contributes to one index (SPEC.md §11.5).
///
/// Each field's values are found along its dotted path: through documents by name, through an
/// array met on the way by each of its document elements, and an array at the end of the path
/// contributes its elements (an empty one: `undefined`). A missing field is indexed as null,
/// except in a sparse index when every field is missing, and a document outside the partial
/// filter has no entries. At most one field may reach an array (CannotIndexParallelArrays 171).
struct IndexKeys {
    struct Entry: Equatable {
        /// `entryPrefix ‖ fields ‖ primary key`.
        var key: [UInt8]
        /// `entryPrefix ‖ fields`: what two documents may not share in a unique index.
        var uniquePrefixCount: Int
        /// `u32be(len(pk)) ‖ pk ‖ BSON {"0": v₀, …}` (missing fields absent): the primary key
        /// to fetch the document and the values a covered query returns.
        var value: [UInt8]
        /// The indexed values, one per field (null for missing).
        var values: [BSONValue]

        var uniquePrefix: ArraySlice<UInt8> { key[..<uniquePrefixCount] }
    }

    /// The entries of `doc` (whose primary key, without the collection prefix, is `pk`), and
    /// whether any field reached an array.
    static func entries(_ doc: Document, pk: ArraySlice<UInt8>, spec: IndexSpec) throws
        -> (entries: [Entry], multikey: Bool)
    {
        if let partial = spec.partialFilter, !partial.matches(doc) { return ([], false) }
        var perField: [[BSONValue]] = []
        var present: [Bool] = []
        var arrays = 0
        for field in spec.fields {
            var out: [BSONValue] = []
            var sawArray = false
            collect(.document(doc), field.path.split(separator: ".").map(String.init)[...], &out, &sawArray)
            if sawArray { arrays += 1 }
            present.append(!out.isEmpty)
            if out.isEmpty { out = [.null] }
            perField.append(out)
        }
        if spec.sparse && !present.contains(true) { return ([], false) }
        if arrays > 1 {
            throw OsmanthusError(
                .cannotIndexParallelArrays,
                "cannot index parallel arrays [\(spec.fields.map(\.path).joined(separator: "] ["))] in index \(spec.name)")
        }
        // At most one field has several values: the cartesian product is that field's list.
        var tuples: [[BSONValue]] = [[]]
        for values in perField {
            var seen = Set<[UInt8]>()
            let distinct = values.filter { seen.insert(KeyEncoder.encode($0)).inserted }
            tuples = tuples.flatMap { t in distinct.map { t + [$0] } }
        }
        let prefix = spec.entryPrefix
        var entries: [Entry] = []
        entries.reserveCapacity(tuples.count)
        for tuple in tuples {
            var key = prefix
            var stored = Document()
            for (i, (field, value)) in zip(spec.fields, tuple).enumerated() {
                let enc = KeyEncoder.encode(value)
                key.append(contentsOf: field.ascending ? enc : IndexFormat.complement(enc))
                if present[i] { stored.append(String(i), value) }
            }
            let count = key.count
            key.append(contentsOf: pk)
            var value = IndexFormat.be32(UInt32(pk.count))
            value.append(contentsOf: pk)
            value.append(contentsOf: stored.bytes)
            entries.append(Entry(key: key, uniquePrefixCount: count, value: value, values: tuple))
        }
        return (entries, arrays > 0)
    }

    private static func collect(_ value: BSONValue, _ parts: ArraySlice<String>, _ out: inout [BSONValue],
                                _ sawArray: inout Bool) {
        guard let head = parts.first else {
            if case .array(let items) = value {
                sawArray = true
                out.append(contentsOf: items.isEmpty ? [.undefined] : items)
            } else {
                out.append(value)
            }
            return
        }
        switch value {
        case .document(let d):
            if let v = d[head] { collect(v, parts.dropFirst(), &out, &sawArray) }
        case .array(let items):
            sawArray = true
            for item in items where item.documentValue != nil { collect(item, parts, &out, &sawArray) }
        default:
            break
        }
    }

    /// The primary key stored in an entry's value.
    static func primaryKey(fromValue v: [UInt8]) -> ArraySlice<UInt8> {
        guard v.count >= 4 else { return [] }
        let n = Int(v[0]) << 24 | Int(v[1]) << 16 | Int(v[2]) << 8 | Int(v[3])
        return v[4..<min(v.count, 4 + n)]
    }

    /// The field values stored in an entry's value, as a document shaped like the indexed
    /// document (`{a: {b: v}}` for path `a.b`), missing fields absent.
    static func coveredDocument(fromValue v: [UInt8], spec: IndexSpec) throws -> Document {
        let n = primaryKey(fromValue: v).count
        let stored = try Document(bytes: Array(v[(4 + n)...]))
        var root = Document()
        for (i, field) in spec.fields.enumerated() {
            guard let value = stored[String(i)] else { continue }
            root = setting(root, field.path.split(separator: ".").map(String.init)[...], value)
        }
        return root
    }

    private static func setting(_ doc: Document, _ parts: ArraySlice<String>, _ value: BSONValue) -> Document {
        guard let head = parts.first else { return doc }
        var out = Document()
        var placed = false
        for (k, v) in doc {
            if k == head {
                placed = true
                if parts.count == 1 {
                    out.append(k, value)
                } else {
                    out.append(k, .document(setting(v.documentValue ?? Document(), parts.dropFirst(), value)))
                }
            } else {
                out.append(k, v)
            }
        }
        if !placed {
            out.append(head, parts.count == 1 ? value : .document(setting(Document(), parts.dropFirst(), value)))
        }
        return out
    }
}
