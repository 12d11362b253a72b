import Osmanthus

/// MongoDB's rules for database and collection names, checked before the engine sees them.
enum Namespace {
    /// Bytes a database name cannot contain (all ASCII: checked on the UTF-8 bytes, which is
    /// exact, and cheap on every command's path).
    static let forbiddenInDatabaseName: [UInt8] = Array("/\\. \"$\0".utf8)

    static func validateDatabase(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count < 64, !name.utf8.contains(where: forbiddenInDatabaseName.contains) else {
            throw OsmanthusError(.invalidNamespace, "Invalid database name: '\(name)'")
        }
    }

    static func validateCollection(_ name: String, in database: String) throws {
        try validateDatabase(database)
        // Byte checks: `String.contains(String)` is Foundation's substring search, costly per request.
        guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: "$")), !name.utf8.contains(0),
            name.utf8.first != UInt8(ascii: ".")
        else {
            throw OsmanthusError(.invalidNamespace, "Invalid collection name: \(database).\(name)")
        }
        guard database.utf8.count + 1 + name.utf8.count <= 255 else {
            throw OsmanthusError(.invalidNamespace, "Fully qualified namespace is too long: \(database).\(name)")
        }
    }

    /// "db.collection" split at the first dot (`renameCollection`'s arguments).
    static func split(_ namespace: String) throws -> (database: String, collection: String) {
        guard let dot = namespace.firstIndex(of: ".") else {
            throw OsmanthusError(.invalidNamespace, "Invalid namespace specified '\(namespace)'")
        }
        let database = String(namespace[..<dot])
        let collection = String(namespace[namespace.index(after: dot)...])
        try validateCollection(collection, in: database)
        return (database, collection)
    }
}
