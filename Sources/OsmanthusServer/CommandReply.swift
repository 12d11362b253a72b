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
        var batchKey: String
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
            let cursor = W.documentOverhead + W.elementSize(batch.batchKey, valueSize: array)
                + W.elementSize("id", valueSize: 8) + W.elementSize("ns", valueSize: W.stringSize(batch.namespace))
            return W.documentOverhead + W.elementSize("cursor", valueSize: cursor) + W.elementSize("ok", valueSize: 8)
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
            let start = writer.begin()
            let cursor = writer.beginDocument("cursor")
            let array = writer.beginArray(batch.batchKey)
            for (index, document) in batch.batch.enumerated() {
                writer.element(index, document)
            }
            writer.end(array)
            writer.int64("id", batch.id)
            writer.string("ns", batch.namespace)
            writer.end(cursor)
            writer.double("ok", 1.0)
            writer.end(start)
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

extension CommandReply.CursorBatch {
    /// `{cursor: {<batchKey>: [...], id, ns}}`, built as a `Document`.
    var cursorDocument: Document {
        var cursor = Document()
        cursor.append(batchKey, .array(batch.map { .document($0) }))
        cursor.append("id", .int64(id))
        cursor.append("ns", .string(namespace))
        return ["cursor": .document(cursor)]
    }
}
