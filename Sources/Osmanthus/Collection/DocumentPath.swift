import OsmanthusBSON

/// Values reached by a dotted path, with MongoDB's array rule: an array met on the way is
/// searched element by element, and an array at the end contributes its elements.
enum DocumentPath {
    static func values(in doc: Document, at path: String) -> [BSONValue] {
        var out: [BSONValue] = []
        collect(.document(doc), path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)[...], &out)
        return out
    }

    private static func collect(_ value: BSONValue, _ parts: ArraySlice<String>, _ out: inout [BSONValue]) {
        guard let head = parts.first else {
            if case .array(let items) = value { out.append(contentsOf: items) } else { out.append(value) }
            return
        }
        switch value {
        case .document(let d):
            if let v = d[head] { collect(v, parts.dropFirst(), &out) }
        case .array(let items):
            if let i = Int(head), i >= 0, i < items.count {
                collect(items[i], parts.dropFirst(), &out)
            } else {
                for item in items where item.documentValue != nil { collect(item, parts, &out) }
            }
        default:
            break
        }
    }
}
