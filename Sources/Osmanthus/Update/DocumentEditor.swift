import OsmanthusBSON

/// Applies one action at one concrete path (no positional components left), creating
/// missing documents along the way when the action creates, and padding arrays with nulls
/// when an index is past the end — as MongoDB does.
struct DocumentEditor {
    let environment: UpdateEnvironment

    /// Applies `kind` at `path` in `root` (a document value).
    func apply(_ kind: UpdateAction.Kind, creates: Bool, at path: [String], in root: inout BSONValue) throws {
        try modify(&root, path[...], parentName: "", kind: kind, creates: creates, fullPath: path)
    }

    private func modify(
        _ container: inout BSONValue, _ path: ArraySlice<String>, parentName: String, kind: UpdateAction.Kind,
        creates: Bool, fullPath: [String]
    ) throws {
        guard let component = path.first else { return }
        let isLeaf = path.count == 1
        switch container {
        case .document(var fields):
            if isLeaf, case .set(let value) = kind {
                // `$set`'s outcome never depends on the old value: no decoding it.
                fields.set(component, value)
                container = .document(fields)
                return
            }
            let old = fields[component]
            if isLeaf {
                switch try kind.outcome(old: old, field: component, path: fullPath.joined(separator: "."), environment) {
                case .unchanged: return
                case .set(let value): fields.set(component, value)
                case .remove: fields.remove(component)
                }
            } else {
                guard old != nil || creates else { return }
                var child = old ?? .document(Document())
                try modify(&child, path.dropFirst(), parentName: component, kind: kind, creates: creates, fullPath: fullPath)
                fields.set(component, child)
            }
            container = .document(fields)
        case .array(var elements):
            guard let index = FieldPath.arrayIndex(component) else {
                if creates { throw cannotCreate(component, parentName, container) }
                return
            }
            if index >= elements.count && !creates { return }
            let old: BSONValue? = index < elements.count ? elements[index] : Optional.none
            if isLeaf {
                switch try kind.outcome(old: old, field: component, path: fullPath.joined(separator: "."), environment) {
                case .unchanged: return
                case .set(let value):
                    try DocumentEditor.pad(&elements, to: index)
                    elements[index] = value
                case .remove:
                    elements[index] = .null  // unsetting an element keeps the positions of the others
                }
            } else {
                var child = old ?? .document(Document())
                try modify(&child, path.dropFirst(), parentName: component, kind: kind, creates: creates, fullPath: fullPath)
                try DocumentEditor.pad(&elements, to: index)
                elements[index] = child
            }
            container = .array(elements)
        default:
            if creates { throw cannotCreate(component, parentName, container) }
        }
    }

    /// MongoDB refuses to grow an array by more than this many nulls in one update.
    static let maxPadding = 1_500_000

    private static func pad(_ elements: inout [BSONValue], to index: Int) throws {
        guard index >= elements.count else { return }
        guard index - elements.count <= maxPadding else {
            throw OsmanthusError(.badValue, "can't backfill array to larger than \(maxPadding) elements")
        }
        elements.append(contentsOf: repeatElement(.null, count: index - elements.count + 1))
    }

    private func cannotCreate(_ component: String, _ parentName: String, _ value: BSONValue) -> OsmanthusError {
        OsmanthusError(.pathNotViable, "Cannot create field '\(component)' in element {\(parentName): \(value)}")
    }
}
