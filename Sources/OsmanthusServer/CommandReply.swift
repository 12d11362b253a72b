import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// A command's answer. Most commands build a `Document`; the hot ones (find, getMore, and
/// write acknowledgements) answer with a fixed shape that the connection writes straight into
/// the outbound buffer (`write(body:)`), building no intermediate documents. `document` is the
/// same reply as a `Document`, byte for byte, for the places that need one (a recorded
/// retryable-write reply, a fail point's extra fields, OP_REPLY and compressed replies).
enum CommandReply: Sendable {
    /// A reply document; `SessionGate` appends `ok: 1.0` when the command left it out.
    case document(Document)
    /// `{cursor: {<batchKey>: [...], id, ns}, ok: 1.0}`.
    case cursor(CursorBatch)
    /// `{cursor: {firstBatch: [document] or [], id: 0, ns}, ok: 1.0}`: the answer of a find by
    /// `_id`, the same bytes as `.cursor` with that batch, but no array is allocated for its
    /// zero or one document.
    case pointRead(namespace: String, document: Document?)
    /// `{n: <int32>, ok: 1.0}`, or `{n, nModified, ok: 1.0}` for an update: a write with no
    /// errors (and, for an update, no upserts).
    case written(n: Int32, nModified: Int32? = nil)
    /// A change-stream getMore waiting for commits with no thread held: the connection
    /// answers it later (see `ChangeStreamWait`). Only when `CommandContext.canPark`.
    case parked(ChangeStreamWait)

    /// One batch of a cursor reply.
    struct CursorBatch: Sendable {
        var id: Int64
        var namespace: String
        /// "firstBatch" or "nextBatch".
        var batchKey: StaticString
        var batch: [Document]
    }

    /// Whether this reply reports a failure (`ok: 0`).
    var failed: Bool {
        if case .document(let reply) = self { return reply["ok"] == .double(0) }
        return false
    }

    /// The reply as a document, `ok` included for the fixed shapes.
    var document: Document {
        switch self {
        case .document(let reply):
            return reply
        case .cursor(let batch):
            var reply = batch.cursorDocument
            reply.append("ok", 1.0)
            return reply
        case .pointRead(let namespace, let document):
            var reply = CursorBatch(id: 0, namespace: namespace, batchKey: "firstBatch", batch: document.map { [$0] } ?? [])
                .cursorDocument
            reply.append("ok", 1.0)
            return reply
        case .written(let n, let nModified):
            var reply: Document = ["n": .int32(n)]
            if let nModified { reply.append("nModified", .int32(nModified)) }
            reply.append("ok", 1.0)
            return reply
        case .parked:
            preconditionFailure("a parked getMore has no reply yet")
        }
    }

    /// The size of the reply's BSON document, for `write(body:)`.
    var bodySize: Int {
        typealias W = BSONBufferWriter
        switch self {
        case .document(let reply):
            return reply.byteCount
        case .cursor(let batch):
            var array = W.documentOverhead
            for (index, document) in batch.batch.enumerated() {
                array += W.elementSize(index: index, valueSize: document.byteCount)
            }
            return Self.cursorReplySize(batchKey: batch.batchKey, arraySize: array, namespace: batch.namespace)
        case .pointRead(let namespace, let document):
            let array = W.documentOverhead + (document.map { W.elementSize(index: 0, valueSize: $0.byteCount) } ?? 0)
            return Self.cursorReplySize(batchKey: "firstBatch", arraySize: array, namespace: namespace)
        case .written(_, let nModified):
            return W.documentOverhead + W.elementSize("n", valueSize: 4)
                + (nModified == nil ? 0 : W.elementSize("nModified", valueSize: 4)) + W.elementSize("ok", valueSize: 8)
        case .parked:
            preconditionFailure("a parked getMore has no reply yet")
        }
    }

    /// Writes the reply's BSON document (`bodySize` bytes).
    func write(body writer: inout BSONBufferWriter) {
        switch self {
        case .document(let reply):
            writer.document(reply)
        case .cursor(let batch):
            let (start, cursor, array) = Self.beginCursorReply(batchKey: batch.batchKey, &writer)
            for (index, document) in batch.batch.enumerated() {
                writer.element(index, document)
            }
            Self.endCursorReply(start, cursor, array, id: batch.id, namespace: batch.namespace, &writer)
        case .pointRead(let namespace, let document):
            let (start, cursor, array) = Self.beginCursorReply(batchKey: "firstBatch", &writer)
            if let document { writer.element(0, document) }
            Self.endCursorReply(start, cursor, array, id: 0, namespace: namespace, &writer)
        case .written(let n, let nModified):
            let start = writer.begin()
            writer.int32("n", n)
            if let nModified { writer.int32("nModified", nModified) }
            writer.double("ok", 1.0)
            writer.end(start)
        case .parked:
            preconditionFailure("a parked getMore has no reply yet")
        }
    }
}

extension CommandReply {
    /// The size of `{cursor: {<batchKey>: <array of arraySize bytes>, id, ns}, ok}`.
    private static func cursorReplySize(batchKey: StaticString, arraySize: Int, namespace: String) -> Int {
        typealias W = BSONBufferWriter
        let cursor = W.documentOverhead + W.elementSize(batchKey, valueSize: arraySize)
            + W.elementSize("id", valueSize: 8) + W.elementSize("ns", valueSize: W.stringSize(namespace))
        return W.documentOverhead + W.elementSize("cursor", valueSize: cursor) + W.elementSize("ok", valueSize: 8)
    }

    /// Opens the reply, its `cursor` and the batch array; returns where each starts.
    private static func beginCursorReply(batchKey: StaticString, _ writer: inout BSONBufferWriter) -> (Int, Int, Int) {
        let start = writer.begin()
        let cursor = writer.beginDocument("cursor")
        return (start, cursor, writer.beginArray(batchKey))
    }

    /// Closes the batch array, adds `id` and `ns`, closes `cursor`, adds `ok` and closes the reply.
    private static func endCursorReply(
        _ start: Int, _ cursor: Int, _ array: Int, id: Int64, namespace: String, _ writer: inout BSONBufferWriter
    ) {
        writer.end(array)
        writer.int64("id", id)
        writer.string("ns", namespace)
        writer.end(cursor)
        writer.double("ok", 1.0)
        writer.end(start)
    }
}

extension CommandReply.CursorBatch {
    /// `{cursor: {<batchKey>: [...], id, ns}}`, built as a `Document`.
    var cursorDocument: Document {
        var cursor = Document()
        cursor.append("\(batchKey)", .array(batch.map { .document($0) }))
        cursor.append("id", .int64(id))
        cursor.append("ns", .string(namespace))
        return ["cursor": .document(cursor)]
    }
}
