import Osmanthus
import OsmanthusBSON

/// Typed reads of command fields, with MongoDB's TypeMismatch errors. Each returns nil when
/// the field is absent (or null, which drivers send for "unset").
extension Document {
    func commandInt(_ key: String, in command: String) throws -> Int? {
        guard let value = self[key], value != .null else { return nil }
        guard value.isNumber, let number = value.exactInt64 ?? value.numericDouble.map({ Int64($0.rounded(.towardZero)) }) else {
            throw mismatch(key, in: command, value, expected: "[long, int, decimal, double]")
        }
        return Int(clamping: number)
    }

    func commandBool(_ key: String, in command: String) throws -> Bool? {
        guard let value = self[key], value != .null else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .int32, .int64, .double, .decimal128: return (value.numericDouble ?? 0) != 0
        default: throw mismatch(key, in: command, value, expected: "[bool]")
        }
    }

    func commandString(_ key: String, in command: String) throws -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard case .string(let string) = value else { throw mismatch(key, in: command, value, expected: "[string]") }
        return string
    }

    func commandDocument(_ key: String, in command: String) throws -> Document? {
        guard let value = self[key], value != .null else { return nil }
        guard case .document(let document) = value else { throw mismatch(key, in: command, value, expected: "[object]") }
        return document
    }

    func commandArray(_ key: String, in command: String) throws -> [BSONValue]? {
        guard let value = self[key], value != .null else { return nil }
        guard case .array(let values) = value else { throw mismatch(key, in: command, value, expected: "[array]") }
        return values
    }

    /// An array whose elements must all be documents (`documents`, `updates`, `deletes`).
    func commandDocuments(_ key: String, in command: String) throws -> [Document]? {
        guard let values = try commandArray(key, in: command) else { return nil }
        return try values.enumerated().map { index, value in
            guard case .document(let document) = value else {
                throw mismatch("\(key).\(index)", in: command, value, expected: "[object]")
            }
            return document
        }
    }

    private func mismatch(_ key: String, in command: String, _ value: BSONValue, expected: String) -> OsmanthusError {
        OsmanthusError(
            .typeMismatch,
            "BSON field '\(command).\(key)' is the wrong type '\(value.type.name)', expected types '\(expected)'")
    }
}

extension Document {
    /// The first field: a command's name and argument.
    var firstField: (key: String, value: BSONValue)? {
        var iterator = makeIterator()
        return iterator.next()
    }
}
