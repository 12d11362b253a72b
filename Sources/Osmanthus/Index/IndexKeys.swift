import OsmanthusBSON

/// The entries one document contributes to one index (SPEC.md §11.5).
///
/// Each field's values are found along its dotted path: through documents by name, through an
/// array met on the way by each of its document elements, and an array at the end of the path
/// contributes its elements (an empty one: `undefined`). A missing field is indexed as null,
/// except in a sparse index when every field is missing, and a document outside the partial
/// filter has no entries. Fields whose paths reach the same array (`a.b` and `a.c` through `a`)
/// walk its elements together, one tuple per element, as MongoDB's key generator does: entries
/// pair values of one element, never `b` of one element with `c` of another. Fields reaching two
/// different arrays are refused (CannotIndexParallelArrays 171).
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
        let paths = spec.fields.map { $0.path.split(separator: ".").map(String.init) }
        var generator = Generator(paths: paths, indexName: spec.name)
        let walks = paths.map { Walk(value: .document(doc), rest: $0[...]) }
        let raw = try generator.tuples(walks)
        if spec.sparse && !raw.contains(where: { $0.contains { $0 != nil } }) { return ([], false) }
        let prefix = spec.entryPrefix
        var seen = Set<[UInt8]>()
        var entries: [Entry] = []
        entries.reserveCapacity(raw.count)
        for tuple in raw {
            var key = prefix
            var stored = Document()
            for (i, (field, value)) in zip(spec.fields, tuple).enumerated() {
                let enc = KeyEncoder.encode(value ?? .null)
                key.append(contentsOf: field.ascending ? enc : IndexFormat.complement(enc))
                if let value { stored.append(String(i), value) }
            }
            // One entry per distinct tuple of keys (values equal as keys share one entry).
            guard seen.insert(key).inserted else { continue }
            let count = key.count
            key.append(contentsOf: pk)
            var value = IndexFormat.be32(UInt32(pk.count))
            value.append(contentsOf: pk)
            value.append(contentsOf: stored.bytes)
            entries.append(Entry(key: key, uniquePrefixCount: count, value: value, values: tuple.map { $0 ?? .null }))
        }
        return (entries, generator.sawArray)
    }

    /// One field's position in the walk: the value reached and the path still to follow.
    private struct Walk {
        var value: BSONValue?
        var rest: ArraySlice<String>
    }

    /// Walks all fields at once; a shared array is expanded once for every field reaching it.
    private struct Generator {
        let paths: [[String]]
        let indexName: String
        var sawArray = false

        /// The value tuples (nil = missing) of the fields at `walks`.
        mutating func tuples(_ walks: [Walk]) throws -> [[BSONValue?]] {
            var walks = walks
            // Descend through documents until each field ends or meets an array.
            for i in walks.indices {
                while let head = walks[i].rest.first, let v = walks[i].value {
                    guard case .document(let d) = v else {
                        if case .array = v { break }
                        walks[i].value = nil  // a scalar before the path ends: missing
                        break
                    }
                    walks[i].value = d[head]
                    walks[i].rest = walks[i].rest.dropFirst()
                }
            }
            let atArray = walks.indices.filter { if case .array = walks[$0].value { true } else { false } }
            guard let first = atArray.first, case .array(let items) = walks[first].value else {
                return [walks.map(\.value)]
            }
            sawArray = true
            // Every field meeting an array must meet the same one: the same path prefix.
            let paths = self.paths
            let depth = { (i: Int) in paths[i].count - walks[i].rest.count }
            for i in atArray.dropFirst()
            where depth(i) != depth(first) || paths[i].prefix(depth(i)) != paths[first].prefix(depth(first)) {
                throw OsmanthusError(
                    .cannotIndexParallelArrays,
                    "cannot index parallel arrays [\(paths[first].prefix(depth(first)).joined(separator: "."))] [\(paths[i].prefix(depth(i)).joined(separator: "."))] in index \(indexName)")
            }
            let leaves = atArray.filter { walks[$0].rest.isEmpty }
            let inner = atArray.filter { !walks[$0].rest.isEmpty }
            var out: [[BSONValue?]] = []
            if items.isEmpty, !leaves.isEmpty {
                var t = walks.map(\.value)
                for i in leaves { t[i] = .undefined }
                for i in inner { t[i] = nil }
                return [t]
            }
            for item in items {
                // An element that is not a document has nothing under it; it counts only for
                // fields whose path ends at the array.
                if item.documentValue == nil && leaves.isEmpty { continue }
                var next = walks
                for i in leaves { next[i] = Walk(value: item, rest: []) }
                for i in inner { next[i].value = item.documentValue == nil ? nil : item }
                // Leaves are final (a nested array is indexed as one value): shield them from the
                // next round, which would otherwise expand them again.
                var leafValues: [Int: BSONValue] = [:]
                for i in leaves { leafValues[i] = item; next[i].value = .null }
                for var t in try tuples(next) {
                    for (i, v) in leafValues { t[i] = v }
                    out.append(t)
                }
            }
            if out.isEmpty {
                var t = walks.map(\.value)
                for i in inner { t[i] = nil }
                out = [t]
            }
            return out
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
