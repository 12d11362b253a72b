import OsmanthusBSON

/// Turns an update path with positional components into the concrete paths it updates in one
/// document: `$` becomes the index the query matched, `$[]` every index of the array there,
/// `$[i]` the indexes whose elements match array filter `i`.
struct UpdatePathResolver {
    let arrayFilters: ArrayFilterSet
    let positionalIndex: Int?

    static func isPositional(_ component: String) -> Bool {
        component == "$" || isArrayFilter(component)
    }

    /// `$[]` or `$[identifier]`.
    static func isArrayFilter(_ component: String) -> Bool {
        // The first byte first: nearly every component is a plain name, and `hasPrefix` on a
        // String costs a few hundred instructions.
        component.utf8.first == UInt8(ascii: "$") && component.hasPrefix("$[") && component.hasSuffix("]")
    }

    /// The identifier of `$[identifier]` ("" for `$[]`).
    static func identifier(_ component: String) -> String {
        String(component.dropFirst(2).dropLast())
    }

    func expand(_ path: [String], in document: Document) throws -> [[String]] {
        guard path.contains(where: UpdatePathResolver.isPositional) else { return [path] }
        var results = [[String]]()
        try walk(.document(document), path[...], prefix: [], into: &results)
        return results
    }

    private func walk(_ value: BSONValue?, _ rest: ArraySlice<String>, prefix: [String], into results: inout [[String]]) throws {
        guard let component = rest.first else {
            results.append(prefix)
            return
        }
        if component == "$" {
            guard let index = positionalIndex else {
                throw OsmanthusError(.badValue, "The positional operator did not find the match needed from the query.")
            }
            var element: BSONValue?
            if case .array(let elements)? = value, index < elements.count { element = elements[index] }
            try walk(element, rest.dropFirst(), prefix: prefix + [String(index)], into: &results)
            return
        }
        if UpdatePathResolver.isArrayFilter(component) {
            guard let value else {
                throw OsmanthusError(
                    .badValue,
                    "The path '\(prefix.joined(separator: "."))' must exist in the document in order to apply array updates.")
            }
            guard case .array(let elements) = value else {
                throw OsmanthusError(
                    .badValue, "Cannot apply array updates to non-array element \(prefix.last ?? ""): \(value)")
            }
            let identifier = UpdatePathResolver.identifier(component)
            for (index, element) in elements.enumerated()
            where identifier.isEmpty || arrayFilters.matches(identifier, element) {
                try walk(element, rest.dropFirst(), prefix: prefix + [String(index)], into: &results)
            }
            return
        }
        var next: BSONValue?
        switch value {
        case .document(let fields)?:
            next = fields[component]
        case .array(let elements)?:
            if let index = FieldPath.arrayIndex(component), index < elements.count { next = elements[index] }
        default:
            next = nil
        }
        try walk(next, rest.dropFirst(), prefix: prefix + [component], into: &results)
    }
}
