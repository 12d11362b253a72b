import OsmanthusBSON

/// One change-stream event. `document` is the event as MongoDB shapes it (after the stream's
/// `$project`, if any); the typed accessors read from it.
public struct ChangeEvent: Sendable {
    public enum OperationType: String, Sendable {
        case insert, update, replace, delete, drop, rename, dropDatabase, invalidate
        /// Expanded events, delivered only with `ChangeStreamOptions.showExpandedEvents`.
        case create, createIndexes, dropIndexes, modify
    }

    public let operationType: OperationType
    public let document: Document

    /// `_id`, the token to resume after this event.
    public var resumeToken: Document { document["_id"]?.documentValue ?? Document() }
    public var fullDocument: Document? { document["fullDocument"]?.documentValue }
    public var fullDocumentBeforeChange: Document? { document["fullDocumentBeforeChange"]?.documentValue }
    public var documentKey: Document? { document["documentKey"]?.documentValue }
    public var updateDescription: Document? { document["updateDescription"]?.documentValue }
    /// `ns`: `{db, coll}` (`{db}` for dropDatabase).
    public var namespace: Document? { document["ns"]?.documentValue }
    public var clusterTime: BSONValue? { document["clusterTime"] }
    /// Expanded events: the collection's options (create), the indexes (createIndexes,
    /// dropIndexes), the options changed (modify).
    public var operationDescription: Document? { document["operationDescription"]?.documentValue }
    /// The collection's UUID (binary subtype 4); only with `showExpandedEvents`, as in MongoDB 6.0.
    public var collectionUUID: BSONValue? { document["collectionUUID"] }
    /// modify: `{collectionOptions: {uuid, <options before the change>}}`.
    public var stateBeforeChange: Document? { document["stateBeforeChange"]?.documentValue }
    /// Milliseconds since the epoch.
    public var wallTime: Int64? { document["wallTime"]?.datetimeValue }
}
