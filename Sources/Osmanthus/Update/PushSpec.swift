import OsmanthusBSON

/// The argument of `$push` for one field: the values, and the `$position`, `$sort` and
/// `$slice` modifiers (applied in that order, as MongoDB does).
struct PushSpec: Sendable {
    enum Order: Sendable {
        /// `$sort: 1` / `-1`: whole elements in MongoDB's total order.
        case elements(ascending: Bool)
        /// `$sort: {field: 1, ...}`: documents by their fields (other elements count as `{}`).
        case fields(SortSpec)
    }

    var values: [BSONValue]
    var position: Int?
    var slice: Int?
    var sort: Order?

    /// `{$push: {a: v}}` pushes `v`; with `$each` in the argument, the argument is the
    /// modifier document and only `$each`, `$slice`, `$sort` and `$position` may appear.
    init(_ argument: BSONValue) throws {
        guard case .document(let modifiers) = argument, modifiers.contains("$each") else {
            values = [argument]
            return
        }
        values = []
        for (clause, value) in modifiers {
            switch clause {
            case "$each":
                guard case .array(let elements) = value else {
                    throw OsmanthusError(
                        .badValue, "The argument to $each in $push must be an array but it was of type: \(value.type.name)")
                }
                values = elements
            case "$slice":
                guard value.isNumber, let count = value.exactInt64 else {
                    throw OsmanthusError(
                        .badValue, "The value for $slice must be an integral value but was given type: \(value.type.name)")
                }
                slice = Int(clamping: count)
            case "$position":
                guard value.isNumber, let position = value.exactInt64 else {
                    throw OsmanthusError(
                        .badValue, "The value for $position must be an integer value, not of type: \(value.type.name)")
                }
                self.position = Int(clamping: position)
            case "$sort":
                sort = try PushSpec.parseSort(value)
            default:
                throw OsmanthusError(.badValue, "Unrecognized clause in $push: \(clause)")
            }
        }
    }

    private static func parseSort(_ value: BSONValue) throws -> Order {
        let invalid = OsmanthusError(
            .badValue, "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
        if value.isNumber {
            guard let direction = value.exactInt64, direction == 1 || direction == -1 else { throw invalid }
            return .elements(ascending: direction == 1)
        }
        guard case .document(let pattern) = value else { throw invalid }
        guard !pattern.isEmpty else {
            throw OsmanthusError(.badValue, "The $sort pattern is empty when it should be a set of fields.")
        }
        for (field, direction) in pattern {
            guard direction.isNumber, let d = direction.exactInt64, d == 1 || d == -1 else {
                throw OsmanthusError(.badValue, "The $sort element value must be either 1 or -1")
            }
            if field.isEmpty || field.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw OsmanthusError(.badValue, "The $sort field is a dotted field but has an empty part: \(field)")
            }
        }
        return .fields(try SortSpec(pattern))
    }

    /// The array after the push.
    func apply(to existing: [BSONValue]) -> [BSONValue] {
        var elements = existing
        let index: Int
        if let position {
            index = position >= 0 ? min(position, elements.count) : max(elements.count + position, 0)
        } else {
            index = elements.count
        }
        elements.insert(contentsOf: values, at: index)
        switch sort {
        case .elements(let ascending)?:
            elements = stableSorted(elements) { BSONValue.compare($0, $1) * (ascending ? 1 : -1) }
        case .fields(let spec)?:
            elements = stableSorted(elements) { a, b in
                spec.compare(a.documentValue ?? Document(), b.documentValue ?? Document())
            }
        case nil:
            break
        }
        if let slice {
            elements = slice >= 0 ? Array(elements.prefix(slice)) : Array(elements.suffix(-slice))
        }
        return elements
    }

    private func stableSorted(_ elements: [BSONValue], _ order: (BSONValue, BSONValue) -> Int) -> [BSONValue] {
        elements.enumerated().sorted { a, b in
            let result = order(a.element, b.element)
            return result != 0 ? result < 0 : a.offset < b.offset
        }.map(\.element)
    }
}
