import OsmanthusBSON

/// A sort order such as `{a: 1, b: -1}` (SPEC.md §12).
///
/// Each key's value in a document is found as MongoDB's sort-key generator finds it: through
/// documents by field and through arrays element by element, a missing field counting as null
/// and an empty array at the end of the path as undefined (below null). An ascending key uses
/// the smallest of the values found, a descending key the largest; values compare in MongoDB's
/// total order (`BSONValue.compare`). `{$natural: 1}` is accepted and means "no sort".
public struct SortSpec: Sendable {
    struct Key: Sendable {
        let path: [String]
        let ascending: Bool
    }

    let keys: [Key]
    /// The `$natural` direction, if the spec asked for natural order.
    public let natural: Int?

    public init(_ spec: Document) throws {
        var keys = [Key]()
        var natural: Int?
        for (field, value) in spec {
            if case .document(let meta) = value, meta.keys.first == "$meta" {
                throw OsmanthusError(.notImplemented, "$meta sort is not supported")
            }
            guard value.isNumber, let direction = value.exactInt64, direction == 1 || direction == -1 else {
                throw OsmanthusError(.location15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
            }
            if field == "$natural" {
                natural = Int(direction)
                continue
            }
            guard !field.isEmpty, !field.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                throw OsmanthusError(.badValue, "FieldPath field names may not be empty strings.")
            }
            guard !field.hasPrefix("$") else {
                throw OsmanthusError(.badValue, "FieldPath field names may not start with '$'.")
            }
            keys.append(Key(path: FieldPath(field).components, ascending: direction == 1))
        }
        self.keys = keys
        self.natural = natural
    }

    /// No keys (an empty spec, or only `$natural`).
    public var isEmpty: Bool { keys.isEmpty }

    /// -1, 0 or 1 as `a` sorts before, with, or after `b`.
    public func compare(_ a: Document, _ b: Document) -> Int {
        for key in keys {
            let order = BSONValue.compare(SortSpec.keyValue(a, key), SortSpec.keyValue(b, key))
            if order != 0 { return key.ascending ? order : -order }
        }
        return 0
    }

    /// The sort key of `doc`, one value per key, for callers that sort many documents:
    /// compare keys with `compareKeys`.
    public func sortKey(_ doc: Document) -> [BSONValue] {
        keys.map { SortSpec.keyValue(doc, $0) }
    }

    public func compareKeys(_ a: [BSONValue], _ b: [BSONValue]) -> Int {
        for (index, key) in keys.enumerated() {
            let order = BSONValue.compare(a[index], b[index])
            if order != 0 { return key.ascending ? order : -order }
        }
        return 0
    }

    static func keyValue(_ doc: Document, _ key: Key) -> BSONValue {
        var best: BSONValue?
        collect(.document(doc), key.path[...]) { value in
            guard let current = best else {
                best = value
                return
            }
            let order = BSONValue.compare(value, current)
            if key.ascending ? order < 0 : order > 0 { best = value }
        }
        return best ?? .null
    }

    /// Every value a sort path reaches in `value`.
    static func collect(_ value: BSONValue?, _ path: ArraySlice<String>, _ body: (BSONValue) -> Void) {
        guard let component = path.first else {
            switch value {
            case nil: body(.null)
            case .array(let elements)?:
                if elements.isEmpty { body(.undefined) }
                elements.forEach(body)
            case let value?: body(value)
            }
            return
        }
        switch value {
        case .document(let fields)?:
            collect(fields[component], path.dropFirst(), body)
        case .array(let elements)?:
            if let index = FieldPath.arrayIndex(component), index < elements.count {
                collect(elements[index], path.dropFirst(), body)
                return
            }
            if elements.isEmpty { body(.null) }
            for element in elements {
                if case .document(let fields) = element {
                    collect(fields[component], path.dropFirst(), body)
                } else {
                    body(.null)
                }
            }
        default:
            body(.null)
        }
    }
}
