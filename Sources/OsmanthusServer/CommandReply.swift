import NIOCore
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

    /// Writes the reply's BSON body document at the buffer's writer index.
    func write(body buffer: inout ByteBuffer) {
        switch self {
        case .document(let reply):
            reply.withUnsafeBytes { _ = buffer.writeBytes($0) }
        case .cursor(let batch):
            let start = BSONBufferWriter.begin(&buffer)
            let cursor = BSONBufferWriter.beginDocument(&buffer, "cursor")
            let array = BSONBufferWriter.beginArray(&buffer, batch.batchKey)
            for (index, document) in batch.batch.enumerated() {
                BSONBufferWriter.element(&buffer, index, document)
            }
            BSONBufferWriter.end(&buffer, array)
            BSONBufferWriter.int64(&buffer, "id", batch.id)
            BSONBufferWriter.string(&buffer, "ns", batch.namespace)
            BSONBufferWriter.end(&buffer, cursor)
            BSONBufferWriter.double(&buffer, "ok", 1.0)
            BSONBufferWriter.end(&buffer, start)
        case .written(let n, let nModified):
            let start = BSONBufferWriter.begin(&buffer)
            BSONBufferWriter.int32(&buffer, "n", n)
            if let nModified { BSONBufferWriter.int32(&buffer, "nModified", nModified) }
            BSONBufferWriter.double(&buffer, "ok", 1.0)
            BSONBufferWriter.end(&buffer, start)
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
