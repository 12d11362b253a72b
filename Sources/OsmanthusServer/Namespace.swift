import Osmanthus

/// MongoDB's rules for database and collection names, checked before the engine sees them.
enum Namespace {
    /// Whether a database name may contain `byte`: not one of `/\. "$` or NUL (all ASCII, so
    /// checking the UTF-8 bytes is exact, and cheap on every command's path).
    @inline(__always)
    static func allowedInDatabaseName(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "."), UInt8(ascii: " "), UInt8(ascii: "\""),
            UInt8(ascii: "$"), 0:
            false
        default: true
        }
    }

    static func validateDatabase(_ name: String) throws {
        // One pass over the bytes: length and characters together.
        var count = 0
        for byte in name.utf8 {
            guard allowedInDatabaseName(byte) else { count = 64; break }
            count += 1
        }
        guard count > 0, count < 64 else {
            throw OsmanthusError(.invalidNamespace, "Invalid database name: '\(name)'")
        }
    }

    static func validateCollection(_ name: String, in database: String) throws {
        try validateDatabase(database)
        // Byte checks: `String.contains(String)` is Foundation's substring search, costly per request.
        guard !name.isEmpty, name.utf8.first != UInt8(ascii: "."),
            !name.utf8.contains(where: { $0 == UInt8(ascii: "$") || $0 == 0 })
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
