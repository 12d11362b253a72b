import OsmanthusBSON

/// Walks a dotted path through a document the way MongoDB's matcher does (the server's
/// `BSONElementIterator`), producing every candidate value a query condition is tested against.
///
/// - Through documents: one field per component. A missing field, or a scalar met before the
///   path ends, gives one "missing" candidate (`nil`), which `{a: null}` matches.
/// - Through an array before the path ends: each document element is walked with the rest of
///   the path (its missing fields give missing candidates); scalar elements give nothing. A
///   numeric component also selects the element at that position, whatever its type.
/// - An array at the end of the path (with `.traverse`): each element, then the array itself —
///   so `{a: 2}` and `{a: [1, 2]}` both match `{a: [1, 2]}`.
///
/// Each candidate carries the position in the outermost array crossed implicitly, which is what
/// the positional `$` update and projection operators refer to.
enum PathTraversal {
    enum LeafArrays: Sendable {
        /// Elements of an array at the end of the path are candidates, then the array itself.
        case traverse
        /// Only the array itself (`$size`, `$elemMatch`).
        case noTraversal
    }

    /// Calls `body` with each candidate (value or nil for missing, array position) until it
    /// returns true; returns whether it did.
    static func anyCandidate(
        in document: Document, path: ArraySlice<String>, leafArrays: LeafArrays,
        _ body: (BSONValue?, Int?) -> Bool
    ) -> Bool {
        var current = BSONValue.document(document)
        var index = path.startIndex
        while index < path.endIndex {
            guard case .document(let fields) = current, let value = fields[path[index]] else {
                return body(nil, nil)
            }
            current = value
            index += 1
            if case .array(let elements) = value, index < path.endIndex {
                return anyInArray(elements, rest: path[index...], leafArrays: leafArrays, body)
            }
        }
        if case .array(let elements) = current, leafArrays == .traverse {
            for (position, element) in elements.enumerated() where body(element, position) {
                return true
            }
        }
        return body(current, nil)
    }

    /// An array met before the end of the path; `rest` is not empty.
    private static func anyInArray(
        _ elements: [BSONValue], rest: ArraySlice<String>, leafArrays: LeafArrays,
        _ body: (BSONValue?, Int?) -> Bool
    ) -> Bool {
        let next = rest[rest.startIndex]
        let offset = FieldPath.arrayIndex(next)  // "01" never names an element
        let afterOffset = rest.dropFirst()
        for (position, element) in elements.enumerated() {
            let isOffset = offset == position
            if case .document(let fields) = element {
                // Implicit traversal: candidates report this element's position.
                if anyCandidate(in: fields, path: rest, leafArrays: leafArrays, { value, _ in body(value, position) }) {
                    return true
                }
                if isOffset {
                    if afterOffset.isEmpty {
                        if body(element, nil) { return true }
                    } else if anyCandidate(in: fields, path: afterOffset, leafArrays: leafArrays, body) {
                        return true
                    }
                }
            } else if isOffset {
                if afterOffset.isEmpty {
                    // The path names this element: it is the candidate, not traversed.
                    if body(element, nil) { return true }
                } else if case .array(let inner) = element {
                    if anyInArray(inner, rest: afterOffset, leafArrays: leafArrays, body) { return true }
                }
            }
        }
        return false
    }
}
