import Osmanthus
import OsmanthusBSON

/// The filters listDatabases and listCollections accept: conditions on the fields of the
/// entries they return (`name`, `type`, ...) — equality, `$eq`, `$ne`, `$in`, `$nin` and
/// `$regex` — joined by an implicit and. The catalog is small; entries are filtered here,
/// not by the query engine.
enum NameFilter {
    static func matches(_ entry: Document, _ filter: Document) throws -> Bool {
        for (field, condition) in filter {
            guard !field.hasPrefix("$") else {
                throw OsmanthusError(.notImplemented, "catalog filters with \(field) are not supported yet")
            }
            guard try matches(entry[field], condition) else { return false }
        }
        return true
    }

    private static func matches(_ value: BSONValue?, _ condition: BSONValue) throws -> Bool {
        guard case .document(let operators) = condition, let first = operators.firstField, first.key.hasPrefix("$") else {
            if case .regex(let pattern, _) = condition { return try regexMatches(value, pattern) }
            return value == condition
        }
        for (op, argument) in operators {
            let ok: Bool
            switch op {
            case "$eq": ok = value == argument
            case "$ne": ok = value != argument
            case "$in": ok = try argument.arrayValue.map { $0.contains { $0 == value } } ?? badArgument(op)
            case "$nin": ok = try !(argument.arrayValue.map { $0.contains { $0 == value } } ?? badArgument(op))
            case "$regex":
                guard let pattern = argument.stringValue ?? regexPattern(argument) else { return try badArgument(op) }
                ok = try regexMatches(value, pattern)
            case "$options": ok = true
            default: throw OsmanthusError(.notImplemented, "catalog filters with \(op) are not supported yet")
            }
            if !ok { return false }
        }
        return true
    }

    private static func regexPattern(_ value: BSONValue) -> String? {
        if case .regex(let pattern, _) = value { return pattern }
        return nil
    }

    private static func regexMatches(_ value: BSONValue?, _ pattern: String) throws -> Bool {
        guard case .string(let text)? = value else { return false }
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw OsmanthusError(.badValue, "invalid regular expression '\(pattern)'")
        }
        return text.contains(regex)
    }

    private static func badArgument(_ op: String) throws -> Bool {
        throw OsmanthusError(.badValue, "\(op) needs an array (or a pattern for $regex)")
    }
}
