import OsmanthusBSON
import OsmanthusStorage

/// One entry of the change log (SPEC.md §16.2; stored as `ChangeRecord+Encoding` writes it).
/// Streams turn it into MongoDB's event shape (`ChangeEventBuilder`).
struct ChangeRecord: Sendable, Equatable {
    enum Operation: String, Sendable {
        case insert, update, replace, delete, drop, rename, dropDatabase
        /// Catalog events (version 3 records), seen only by streams with `showExpandedEvents`.
        case create, createIndexes, dropIndexes, modify

        /// Shown only to streams opened with `showExpandedEvents` (MongoDB 6.0's expanded events).
        var isExpanded: Bool {
            switch self {
            case .create, .createIndexes, .dropIndexes, .modify: true
            default: false
            }
        }
    }

    var operation: Operation
    var database: String
    /// nil for dropDatabase.
    var collection: String?
    /// The document's engine key (for updateLookup); nil for catalog events.
    var engineKey: [UInt8]?
    var documentKey: Document?
    var wallMillis: Int64
    /// Post-image: always for insert and replace; for update only with pre/post images on.
    var fullDocument: Document?
    /// Pre-image, only for collections with pre/post images on.
    var preImage: Document?
    var updateDescription: Document?
    /// rename: the target namespace.
    var toDatabase: String?
    var toCollection: String?
    /// Expanded events: MongoDB's `operationDescription` (the collection's options, the indexes
    /// created or dropped, the options changed), also what point-in-time restore replays.
    var operationDescription: Document?
    /// The collection's catalog id (its UUID is derived from it, `Catalog.collectionUUID`);
    /// nil in records written before version 4 and for dropDatabase.
    var collectionId: UInt32?
    /// modify: the collection's options before the change (`changeEventDescription` shape),
    /// MongoDB's `stateBeforeChange.collectionOptions` without the `uuid`.
    var stateBefore: Document?

    init(operation: Operation, database: String, collection: String?, wallMillis: Int64) {
        self.operation = operation
        self.database = database
        self.collection = collection
        self.wallMillis = wallMillis
    }

    var summary: Summary { Summary(operation, database, collection, wallMillis) }

    /// Whether this record ends a stream of `scope` (after it is delivered, an invalidate follows).
    func invalidates(_ scope: ChangeStreamScope) -> Bool { summary.invalidates(scope) }

    /// Whether a stream of `scope` sees this record.
    func isVisible(in scope: ChangeStreamScope) -> Bool { summary.isVisible(in: scope) }
}

extension ChangeRecord.Summary {
    /// Whether this record ends a stream of `scope` (after it is delivered, an invalidate follows).
    func invalidates(_ scope: ChangeStreamScope) -> Bool {
        switch scope {
        case .collection(let db, let name):
            (operation == .drop || operation == .rename) && database == db && collection == name
        case .database(let db):
            operation == .dropDatabase && database == db
        case .cluster:
            false
        }
    }

    /// Whether a stream of `scope` sees this record.
    func isVisible(in scope: ChangeStreamScope) -> Bool {
        switch scope {
        case .collection(let db, let name): database == db && collection == name
        case .database(let db): database == db
        case .cluster: !ChangeStreamScope.internalDatabases.contains(database)
        }
    }
}
