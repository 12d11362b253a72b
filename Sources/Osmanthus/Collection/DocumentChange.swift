import OsmanthusBSON

/// What one write did to one document: the unit every write path hands to `Database.commit`,
/// which derives the rest of the engine batch from it — the document itself, its index entries
/// and its change record — so all of them commit together or not at all.
struct DocumentChange: Sendable {
    enum Operation: String, Sendable {
        case insert, update, replace, delete
    }

    var entry: CatalogEntry
    /// The document's engine key (collection prefix ‖ primary key).
    var key: [UInt8]
    var operation: Operation
    /// The document before the write; nil for an insert.
    var before: Document?
    /// The document after the write; nil for a delete.
    var after: Document?
    /// An update's `updateDescription` when the write already knows it (a top-level edit);
    /// nil: the change log works it out as a diff of `before` and `after`.
    var updateDescription: Document?

    static func insert(_ doc: Document, key: [UInt8], in entry: CatalogEntry) -> DocumentChange {
        DocumentChange(entry: entry, key: key, operation: .insert, before: nil, after: doc, updateDescription: nil)
    }

    static func delete(_ doc: Document, key: [UInt8], in entry: CatalogEntry) -> DocumentChange {
        DocumentChange(entry: entry, key: key, operation: .delete, before: doc, after: nil, updateDescription: nil)
    }

    static func modify(_ before: Document, to after: Document, replacing: Bool, key: [UInt8], in entry: CatalogEntry)
        -> DocumentChange
    {
        DocumentChange(entry: entry, key: key, operation: replacing ? .replace : .update, before: before, after: after,
            updateDescription: nil)
    }
}
