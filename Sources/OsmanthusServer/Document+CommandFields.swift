import Osmanthus
import OsmanthusBSON

/// Typed reads of command fields, with MongoDB's TypeMismatch errors. Each returns nil when
/// the field is absent (or null, which drivers send for "unset"). The `CommandFields` forms
/// take a value already found (by the one walk); the `Document` forms look the key up.
extension CommandFields {
    static func int(_ value: BSONValue?, _ key: String, in command: String) throws -> Int? {
        guard let value, value != .null else { return nil }
        guard value.isNumber, let number = value.exactInt64 ?? value.numericDouble.map({ Int64($0.rounded(.towardZero)) }) else {
            throw mismatch(key, in: command, value, expected: "[long, int, decimal, double]")
        }
        return Int(clamping: number)
    }

    static func bool(_ value: BSONValue?, _ key: String, in command: String) throws -> Bool? {
        guard let value, value != .null else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .int32, .int64, .double, .decimal128: return (value.numericDouble ?? 0) != 0
        default: throw mismatch(key, in: command, value, expected: "[bool]")
        }
    }

    static func string(_ value: BSONValue?, _ key: String, in command: String) throws -> String? {
        guard let value, value != .null else { return nil }
        guard case .string(let string) = value else { throw mismatch(key, in: command, value, expected: "[string]") }
        return string
    }

    static func document(_ value: BSONValue?, _ key: String, in command: String) throws -> Document? {
        guard let value, value != .null else { return nil }
        guard case .document(let document) = value else { throw mismatch(key, in: command, value, expected: "[object]") }
        return document
    }

    static func array(_ value: BSONValue?, _ key: String, in command: String) throws -> [BSONValue]? {
        guard let value, value != .null else { return nil }
        guard case .array(let values) = value else { throw mismatch(key, in: command, value, expected: "[array]") }
        return values
    }

    /// An array whose elements must all be documents (`documents`, `updates`, `deletes`).
    static func documents(_ value: BSONValue?, _ key: String, in command: String) throws -> [Document]? {
        guard let values = try array(value, key, in: command) else { return nil }
        return try values.enumerated().map { index, value in
            guard case .document(let document) = value else {
                throw mismatch("\(key).\(index)", in: command, value, expected: "[object]")
            }
            return document
        }
    }

    private static func mismatch(_ key: String, in command: String, _ value: BSONValue, expected: String) -> OsmanthusError {
        OsmanthusError(
            .typeMismatch,
            "BSON field '\(command).\(key)' is the wrong type '\(value.type.name)', expected types '\(expected)'")
    }
}

extension Document {
    func commandInt(_ key: String, in command: String) throws -> Int? {
        try CommandFields.int(self[key], key, in: command)
    }

    func commandBool(_ key: String, in command: String) throws -> Bool? {
        try CommandFields.bool(self[key], key, in: command)
    }

    func commandString(_ key: String, in command: String) throws -> String? {
        try CommandFields.string(self[key], key, in: command)
    }

    func commandDocument(_ key: String, in command: String) throws -> Document? {
        try CommandFields.document(self[key], key, in: command)
    }

    func commandArray(_ key: String, in command: String) throws -> [BSONValue]? {
        try CommandFields.array(self[key], key, in: command)
    }

    func commandDocuments(_ key: String, in command: String) throws -> [Document]? {
        try CommandFields.documents(self[key], key, in: command)
    }

    /// The first field: a command's name and argument.
    var firstField: (key: String, value: BSONValue)? {
        var iterator = makeIterator()
        return iterator.next()
    }
}
