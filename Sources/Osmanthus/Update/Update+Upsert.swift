import OsmanthusBSON

/// The document an upsert starts from (MongoDB's "query fields" of an upsert).
extension Update {
    /// The document an upsert starts from: the filter's equality fields (dotted paths expanded
    /// into subdocuments), per MongoDB's upsert rules; the caller then applies the update with
    /// isInsert: true. Fields come in path order, `_id` first. A path constrained twice (or a
    /// path and its prefix) keeps the first; `upsertSeedChecked` reports that instead.
    public static func upsertSeed(from filter: Filter) -> Document {
        (try? seed(from: filter, strict: false)) ?? Document()
    }

    /// As `upsertSeed`, but throws NotSingleValueField (54) when a path is constrained twice, as
    /// MongoDB does ("cannot infer query fields to set, path 'a' is matched twice").
    public static func upsertSeedChecked(from filter: Filter) throws -> Document {
        try seed(from: filter, strict: true)
    }

    private static func seed(from filter: Filter, strict: Bool) throws -> Document {
        var kept = [(path: [String], value: BSONValue)]()
        for (dotted, value) in filter.equalityList {
            let path = FieldPath(dotted)
            if let clash = kept.first(where: {
                FieldPath(components: $0.path).isPrefix(of: path) || path.isPrefix(of: FieldPath(components: $0.path))
            }) {
                if strict {
                    let other = clash.path.joined(separator: ".")
                    throw OsmanthusError(
                        .notSingleValueField,
                        other == dotted
                            ? "cannot infer query fields to set, path '\(dotted)' is matched twice"
                            : "cannot infer query fields to set, both paths '\(other)' and '\(dotted)' are matched")
                }
                continue
            }
            kept.append((path.components, value))
        }
        kept.sort { $0.path.joined(separator: ".").utf8.lexicographicallyPrecedes($1.path.joined(separator: ".").utf8) }
        var root = BSONValue.document(Document())
        for (path, value) in kept { insert(value, at: path[...], into: &root) }
        guard case .document(let document) = root else { return Document() }
        guard let id = document["_id"], document.keys.first != "_id" else { return document }
        var reordered = Document([("_id", id)])
        for (key, field) in document where key != "_id" { reordered.append(key, field) }
        return reordered
    }

    /// Sets `value` at `path`, creating documents (numeric components are field names here).
    private static func insert(_ value: BSONValue, at path: ArraySlice<String>, into container: inout BSONValue) {
        guard let key = path.first, case .document(var fields) = container else { return }
        if path.count == 1 {
            fields.set(key, value)
        } else {
            var child = fields[key] ?? .document(Document())
            insert(value, at: path.dropFirst(), into: &child)
            fields.set(key, child)
        }
        container = .document(fields)
    }
}
