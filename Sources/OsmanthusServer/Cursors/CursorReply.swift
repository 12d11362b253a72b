import Osmanthus
import OsmanthusBSON

/// The `cursor` replies of find, aggregate, listCollections, listIndexes and getMore:
/// `{cursor: {firstBatch|nextBatch: [...], id, ns}}`, where id 0 means no more documents.
enum CursorReply {
    /// The default first batch of find and aggregate (MongoDB's).
    static let defaultFirstBatchSize = 101

    /// Reads the first batch of a new cursor; keeps the cursor (registering it for getMore)
    /// only if documents remain and the client did not ask for a single batch.
    static func first(
        _ cursor: ServerCursor, batchSize: Int?, singleBatch: Bool = false, server: ServerCore,
        operation: RunningOperation? = nil
    ) throws -> Document {
        try firstBatch(cursor, batchSize: batchSize, singleBatch: singleBatch, server: server, operation: operation)
            .cursorDocument
    }

    /// `first` as a batch the connection writes without building the document (find).
    static func firstBatch(
        _ cursor: ServerCursor, batchSize: Int?, singleBatch: Bool = false, server: ServerCore,
        operation: RunningOperation? = nil
    ) throws -> CommandReply.CursorBatch {
        let batch = try cursor.nextBatch(maxCount: batchSize ?? defaultFirstBatchSize, operation: operation)
        var id: Int64 = 0
        if !cursor.isExhausted, !singleBatch {
            id = try server.cursors.register(cursor)
        }
        return CommandReply.CursorBatch(id: id, namespace: cursor.namespace, batchKey: "firstBatch", batch: batch)
    }

    /// A first batch that is all there is (results computed in full, e.g. listCollections).
    static func complete(_ documents: [Document], namespace: String) -> Document {
        CommandReply.CursorBatch(id: 0, namespace: namespace, batchKey: "firstBatch", batch: documents).cursorDocument
    }

    /// Reads a batch size option: nil when absent, BadValue when negative.
    static func batchSize(_ value: Int?, command: String) throws -> Int? {
        guard let value else { return nil }
        guard value >= 0 else {
            throw OsmanthusError(.badValue, "BSON field '\(command).batchSize' value must be >= 0, actual value '\(value)'")
        }
        return value
    }
}
