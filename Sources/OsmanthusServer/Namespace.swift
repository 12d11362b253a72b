import Osmanthus

/// MongoDB's rules for database and collection names, checked before the engine sees them.
enum Namespace {
    /// Characters a database name cannot contain.
    static let forbiddenInDatabaseName: Set<Character> = ["/", "\\", ".", " ", "\"", "$", "\0"]

    static func validateDatabase(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count < 64, !name.contains(where: forbiddenInDatabaseName.contains) else {
            throw OsmanthusError(.invalidNamespace, "Invalid database name: '\(name)'")
        }
    }

    static func validateCollection(_ name: String, in database: String) throws {
        try validateDatabase(database)
        guard !name.isEmpty, !name.contains("$"), !name.contains("\0"), !name.hasPrefix(".") else {
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
