import OsmanthusBSON

/// `$unwind`: one output document per element of the array at `path`, the element in place of
/// the array. A non-array value passes through as is; null, missing and `[]` drop the document
/// unless `preserveNullAndEmptyArrays` (then it passes, `[]` removed from it).
/// `includeArrayIndex` names a field for the element's index (null when nothing was unwound).
struct UnwindStage: Sendable {
    let path: [String]
    let indexField: [String]?
    let preserveEmpty: Bool

    init(_ argument: BSONValue) throws {
        var pathText: BSONValue = argument
        var indexField: [String]?
        var preserve = false
        if case .document(let options) = argument {
            for key in options.keys where !["path", "includeArrayIndex", "preserveNullAndEmptyArrays"].contains(key) {
                throw OsmanthusError(.location(28811), "unrecognized option to $unwind stage: \(key)")
            }
            guard let path = options["path"] else {
                throw OsmanthusError(.location(28812), "no path specified to $unwind stage")
            }
            pathText = path
            if let index = options["includeArrayIndex"] {
                guard case .string(let name) = index, !name.isEmpty, !name.hasPrefix("$") else {
                    throw OsmanthusError(.location(28822), "includeArrayIndex option to $unwind stage should be a non-empty string not starting with '$'")
                }
                indexField = FieldPath(name).components
            }
            if let flag = options["preserveNullAndEmptyArrays"] {
                guard case .bool(let value) = flag else {
                    throw OsmanthusError(.location(28809), "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage")
                }
                preserve = value
            }
        }
        guard case .string(let text) = pathText else {
            throw OsmanthusError(.location(15981), "expected either a string or an object as specification for $unwind stage")
        }
        guard text.hasPrefix("$"), text.count > 1 else {
            throw OsmanthusError(.location(28818), "path option to $unwind stage should be prefixed with a '$': \(text)")
        }
        path = FieldPath(String(text.dropFirst())).components
        for component in path { try Expression.validateFieldName(component) }
        self.indexField = indexField
        preserveEmpty = preserve
    }

    func stream(_ input: DocumentStream) -> DocumentStream {
        var pending: (document: Document, elements: [BSONValue], next: Int)?
        return DocumentStream {
            while true {
                if var current = pending {
                    if current.next < current.elements.count {
                        let index = current.next
                        current.next += 1
                        pending = current
                        var out = UpdatePipeline.set(current.elements[index], at: path[...], in: current.document)
                        if let indexField { out = UpdatePipeline.set(.int64(Int64(index)), at: indexField[...], in: out) }
                        return out
                    }
                    pending = nil
                }
                guard let document = try input.next() else { return nil }
                switch value(in: document) {
                case .array(let elements)? where !elements.isEmpty:
                    pending = (document, elements, 0)
                case .array?:
                    guard preserveEmpty else { continue }
                    return withIndex(UpdatePipeline.set(nil, at: path[...], in: document), .null)
                case nil, .null?:
                    guard preserveEmpty else { continue }
                    return withIndex(document, .null)
                case .some:
                    return withIndex(document, .null)
                }
            }
        }
    }

    private func withIndex(_ document: Document, _ index: BSONValue) -> Document {
        guard let indexField else { return document }
        return UpdatePipeline.set(index, at: indexField[...], in: document)
    }

    /// The value at `path` through documents only (arrays on the way are not traversed).
    private func value(in document: Document) -> BSONValue? {
        var current: BSONValue = .document(document)
        for component in path {
            guard case .document(let fields) = current, let next = fields[component] else { return nil }
            current = next
        }
        return current
    }
}
