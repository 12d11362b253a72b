import OsmanthusBSON

/// Replaying an update record without a post-image: the record's `updateDescription` (§16.5)
/// applied to the document as it was before, which replay has (it starts from a consistent
/// backup). Paths are dotted; a numeric component inside an array is an index.
extension UpdateDescription {
    static func apply(_ description: Document, to document: Document) throws -> Document {
        var doc = BSONValue.document(document)
        for case .string(let path) in description["removedFields"]?.arrayValue ?? [] {
            try edit(&doc, path.split(separator: ".").map(String.init)[...]) { $0 = nil }
        }
        for case .document(let t) in description["truncatedArrays"]?.arrayValue ?? [] {
            guard let field = t["field"]?.stringValue, case .int32(let size)? = t["newSize"] else { continue }
            try edit(&doc, field.split(separator: ".").map(String.init)[...]) { v in
                if case .array(let a)? = v { v = .array(Array(a.prefix(Int(size)))) }
            }
        }
        for (path, value) in description["updatedFields"]?.documentValue ?? Document() {
            try edit(&doc, path.split(separator: ".").map(String.init)[...]) { $0 = value }
        }
        guard case .document(let result) = doc else { return document }
        return result
    }

    /// Calls `change` on the value at `path` (nil: absent; setting nil removes it).
    private static func edit(
        _ value: inout BSONValue, _ path: ArraySlice<String>, _ change: (inout BSONValue?) -> Void
    ) throws {
        guard let key = path.first else { return }
        let rest = path.dropFirst()
        switch value {
        case .document(var d):
            var child: BSONValue? = d[key]
            if rest.isEmpty {
                change(&child)
            } else {
                var c = child ?? .document(Document())
                try edit(&c, rest, change)
                child = c
            }
            if let child { d.set(key, child) } else { _ = d.remove(key) }
            value = .document(d)
        case .array(var a):
            guard let i = Int(key), i >= 0 else {
                throw OsmanthusError(.internalError, "change record path \(path.joined(separator: ".")) does not fit")
            }
            while a.count <= i { a.append(.null) }
            var child: BSONValue? = a[i]
            if rest.isEmpty {
                change(&child)
            } else {
                var c = child ?? .document(Document())
                try edit(&c, rest, change)
                child = c
            }
            a[i] = child ?? .null
            value = .array(a)
        default:
            throw OsmanthusError(.internalError, "change record path \(path.joined(separator: ".")) does not fit")
        }
    }
}
