import NIOCore
import OsmanthusBSON
import OsmanthusWire
import Testing

@testable import OsmanthusServer

/// The fixed-shape replies (cursor batches, write acknowledgements) are written straight into
/// the outbound buffer; their bytes must be exactly those of the same reply built as a
/// `Document` and encoded by `WireMessage`, as every reply was before.
struct CommandReplyTests {
    /// The reply as the server used to build it: `{cursor: {<key>: [...], id, ns}}` then `ok`.
    private func referenceCursorReply(_ batch: CommandReply.CursorBatch) -> Document {
        var cursor = Document()
        cursor.append("\(batch.batchKey)", .array(batch.batch.map { .document($0) }))
        cursor.append("id", .int64(batch.id))
        cursor.append("ns", .string(batch.namespace))
        var reply: Document = ["cursor": .document(cursor)]
        reply.append("ok", 1.0)
        return reply
    }

    private func referenceBytes(_ document: Document, requestID: Int32, responseTo: Int32) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try WireMessage(requestID: requestID, responseTo: responseTo, body: .msg(OpMsg(body: document))).write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    private func directBytes(_ reply: CommandReply, requestID: Int32, responseTo: Int32) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try OpMsg.writeReply(requestID: requestID, responseTo: responseTo, bodySize: reply.bodySize, to: &buffer) {
            reply.write(body: &$0)
        }
        return Array(buffer.readableBytesView)
    }

    @Test func cursorRepliesAreByteIdenticalToTheDocumentEncodingForSeededInputs() throws {
        for seed in UInt64(1)...300 {
            var random = SplitMix64(seed: seed)
            // Up to 120 documents: one- two- and three-digit array keys.
            let count = [0, 1, 2, Int.random(in: 3...15, using: &random), Int.random(in: 90...120, using: &random)]
                .randomElement(using: &random) ?? 1
            let batch = CommandReply.CursorBatch(
                id: [0, 1, -1, .max, .min, Int64.random(in: .min ... .max, using: &random)].randomElement(using: &random) ?? 0,
                namespace: random.string(maxLength: 30),
                batchKey: Bool.random(using: &random) ? "firstBatch" : "nextBatch",
                batch: (0..<count).map { _ in random.document() })
            let requestID = Int32.random(in: 1 ... .max, using: &random)
            let responseTo = Int32.random(in: .min ... .max, using: &random)
            let reference = referenceCursorReply(batch)
            let reply = CommandReply.cursor(batch)
            #expect(reply.document == reference, "seed \(seed)")
            #expect(
                try directBytes(reply, requestID: requestID, responseTo: responseTo)
                    == referenceBytes(reference, requestID: requestID, responseTo: responseTo), "seed \(seed)")
        }
    }

    @Test func pointReadRepliesAreByteIdenticalToTheOneOrNoDocumentCursorBatch() throws {
        for seed in UInt64(1)...200 {
            var random = SplitMix64(seed: seed)
            let document = Bool.random(using: &random) ? random.document() : nil
            let namespace = random.string(maxLength: 30)
            let reference = referenceCursorReply(
                CommandReply.CursorBatch(
                    id: 0, namespace: namespace, batchKey: "firstBatch", batch: document.map { [$0] } ?? []))
            let reply = CommandReply.pointRead(namespace: namespace, document: document)
            let requestID = Int32.random(in: 1 ... .max, using: &random)
            #expect(reply.document == reference, "seed \(seed)")
            #expect(
                try directBytes(reply, requestID: requestID, responseTo: 8)
                    == referenceBytes(reference, requestID: requestID, responseTo: 8), "seed \(seed)")
        }
    }

    @Test func writeAcknowledgementsAreByteIdenticalToTheDocumentEncoding() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let n = Int32.random(in: .min ... .max, using: &random)
            let nModified: Int32? = Bool.random(using: &random) ? Int32.random(in: 0 ... .max, using: &random) : nil
            var reference: Document = ["n": .int32(n)]
            if let nModified { reference.append("nModified", .int32(nModified)) }
            reference.append("ok", 1.0)
            let reply = CommandReply.written(n: n, nModified: nModified)
            #expect(reply.document == reference)
            #expect(try directBytes(reply, requestID: 9, responseTo: n) == referenceBytes(reference, requestID: 9, responseTo: n))
        }
    }

    @Test func documentRepliesAreWrittenAsTheyAre() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<100 {
            let document = random.document(maxFields: 8)
            #expect(try directBytes(.document(document), requestID: 3, responseTo: 4) == referenceBytes(document, requestID: 3, responseTo: 4))
        }
    }

    @Test func directRepliesParseBackAsTheirDocument() throws {
        var random = SplitMix64(seed: 11)
        let batch = CommandReply.CursorBatch(
            id: 77, namespace: "db.c", batchKey: "firstBatch", batch: (0..<12).map { _ in random.document() })
        let bytes = try directBytes(.cursor(batch), requestID: 5, responseTo: 6)
        let message = try WireMessage.parse(frame: ByteBuffer(bytes: bytes))
        guard case .msg(let msg) = message.body else {
            Issue.record("not an OP_MSG: \(message.body.opCode)")
            return
        }
        #expect(message.requestID == 5 && message.responseTo == 6)
        #expect(msg.body == referenceCursorReply(batch))
    }
}
