import OsmanthusBSON

/// The `arrayFilters` of an update: one query per identifier, which `$[<identifier>]` path
/// components use to pick the array elements to update.
///
/// Each filter names exactly one identifier as the first component of its top-level fields
/// (`{"i.b": {$gt: 1}}`, `{i: 2}`, `{$or: [{"i.a": 1}, {"i.b": 2}]}`); an identifier is a
/// lowercase letter followed by letters and digits. An element matches when the filter matches
/// the document `{<identifier>: element}`.
struct ArrayFilterSet: Sendable {
    private var filters: [String: MatchNode] = [:]

    var identifiers: Set<String> { Set(filters.keys) }

    var isEmpty: Bool { filters.isEmpty }

    init(_ documents: [Document]) throws {
        for document in documents {
            guard !document.isEmpty else {
                throw OsmanthusError(.failedToParse, "Cannot use an expression without a top-level field name in arrayFilters")
            }
            var names = Set<String>()
            try ArrayFilterSet.collectIdentifiers(document, into: &names)
            guard names.count == 1, let name = names.first else {
                throw OsmanthusError(
                    .failedToParse,
                    "Error parsing array filter :: caused by :: Expected a single top-level field name, found \(names.sorted().map { "'\($0)'" }.joined(separator: " and "))"
                )
            }
            guard ArrayFilterSet.isValidIdentifier(name) else {
                throw OsmanthusError(
                    .badValue,
                    "Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '\(name)'"
                )
            }
            guard filters[name] == nil else {
                throw OsmanthusError(.failedToParse, "Found multiple array filters with the same top-level field name \(name)")
            }
            filters[name] = try FilterParser(allowsExpr: false).parse(document)
        }
    }

    func hasFilter(_ identifier: String) -> Bool { filters[identifier] != nil }

    /// Whether `element` is selected by the filter for `identifier` (which must exist).
    func matches(_ identifier: String, _ element: BSONValue) -> Bool {
        guard let filter = filters[identifier] else { return false }
        return (try? filter.evaluate(Document([(identifier, element)])))?.0 == true
    }

    private static func collectIdentifiers(_ document: Document, into names: inout Set<String>) throws {
        for (key, value) in document {
            if key == "$and" || key == "$or" || key == "$nor" {
                guard case .array(let clauses) = value else { continue }
                for case .document(let clause) in clauses { try collectIdentifiers(clause, into: &names) }
            } else if key.hasPrefix("$") {
                throw OsmanthusError(.failedToParse, "Cannot use an expression without a top-level field name in arrayFilters")
            } else {
                names.insert(String(key.prefix { $0 != "." }))
            }
        }
    }

    static func isValidIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}
