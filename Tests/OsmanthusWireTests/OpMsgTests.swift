import NIOCore
import OsmanthusBSON
import Testing

@testable import OsmanthusWire

struct OpMsgTests {
    static let ping: Document = ["ping": 1, "$db": "admin"]

    @Test func bodyOnlyMessageRoundTripsWholeAndByteByByte() throws {
        let message = WireMessage(requestID: 42, responseTo: 0, body: .msg(OpMsg(body: Self.ping)))
        let bytes = try encode(message)
        #expect(bytes.count == 16 + 4 + 1 + Self.ping.byteCount)
        for chunk in [bytes.count, 1, 3, 7] {
            let decoded = try decodeAll(bytes, chunkSize: chunk)
            #expect(decoded == [message])
        }
    }

    /// SPEC.md §13's worked example: `{ping: 1, $db: "admin"}` as OP_MSG request 1.
    @Test func workedExampleFromSpecDecodes() throws {
        let hex = """
            33000000 01000000 00000000 dd070000 00000000 00 \
            1e000000 10 70696e6700 01000000 02 24646200 06000000 61646d696e00 00
            """
        let bytes = try #require(hexBytes(hex))
        #expect(bytes.count == 0x33)
        let decoded = try decodeAll(bytes, chunkSize: 1)
        #expect(decoded.count == 1)
        #expect(decoded.first?.requestID == 1)
        #expect(try decoded.first?.opMsg?.command() == Self.ping)
        #expect(try encode(WireMessage(requestID: 1, body: .msg(OpMsg(body: Self.ping)))) == bytes)
    }

    @Test func documentSequencesMergeIntoTheCommandAsArrays() throws {
        let docs: [Document] = [["_id": 1], ["_id": 2, "x": "y"], ["_id": 3]]
        let updates: [Document] = [["q": ["_id": 1], "u": ["$set": ["a": 1]]]]
        let message = OpMsg(
            body: ["insert": "c", "$db": "test"],
            sequences: [.init(identifier: "documents", documents: docs), .init(identifier: "updates", documents: updates)])
        let bytes = try encode(WireMessage(requestID: 1, body: .msg(message)))
        let decoded = try #require(try decodeAll(bytes, chunkSize: 1).first?.opMsg)
        #expect(decoded.sequences.count == 2)
        let command = try decoded.command()
        #expect(command["insert"] == "c")
        #expect(command["documents"] == .array(docs.map { .document($0) }))
        #expect(command["updates"] == .array(updates.map { .document($0) }))
    }

    @Test func emptyDocumentSequenceIsAnEmptyArray() throws {
        let message = OpMsg(body: ["delete": "c"], sequences: [.init(identifier: "deletes", documents: [])])
        let decoded = try #require(try decodeAll(try encode(WireMessage(requestID: 1, body: .msg(message))), chunkSize: 5).first?.opMsg)
        #expect(try decoded.command()["deletes"] == .array([]))
    }

    @Test func sequenceNamedLikeABodyFieldIsRejected() throws {
        let message = OpMsg(body: ["insert": "c", "documents": []], sequences: [.init(identifier: "documents", documents: [["a": 1]])])
        #expect(wireErrorCode { _ = try message.command() } == .malformed)
    }

    @Test func flagsRoundTrip() throws {
        let flags: OpMsg.Flags = [.moreToCome, .exhaustAllowed]
        let message = WireMessage(requestID: 3, responseTo: 9, body: .msg(OpMsg(flags: flags, body: ["hello": 1])))
        let decoded = try decodeAll(try encode(message), chunkSize: 1)
        #expect(decoded.first?.opMsg?.flags == flags)
        #expect(decoded.first?.responseTo == 9)
    }

    @Test func checksumIsWrittenAndVerified() throws {
        let message = WireMessage(requestID: 5, body: .msg(OpMsg(flags: .checksumPresent, body: Self.ping)))
        let bytes = try encode(message)
        #expect(bytes.count == 16 + 4 + 1 + Self.ping.byteCount + 4)
        #expect(try decodeAll(bytes, chunkSize: 1) == [message])
    }

    @Test func checksumMismatchIsRejected() throws {
        let bytes = try encode(WireMessage(requestID: 5, body: .msg(OpMsg(flags: .checksumPresent, body: Self.ping))))
        var corruptBody = bytes
        corruptBody[30] ^= 0x01  // inside the key "ping"
        #expect(wireErrorCode { _ = try decodeAll(corruptBody, chunkSize: 1) } == .checksumMismatch)
        var corruptChecksum = bytes
        corruptChecksum[bytes.count - 1] ^= 0x80
        #expect(wireErrorCode { _ = try decodeAll(corruptChecksum, chunkSize: bytes.count) } == .checksumMismatch)
        var corruptHeader = bytes
        corruptHeader[4] ^= 0x01  // requestID is covered too
        #expect(wireErrorCode { _ = try decodeAll(corruptHeader, chunkSize: bytes.count) } == .checksumMismatch)
    }

    @Test func unknownRequiredFlagBitIsRejectedButOptionalOneIsNot() throws {
        var required: [UInt8] = []
        appendUInt32(1 << 2, to: &required)
        required += [0] + Self.ping.bytes
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: required), chunkSize: 64) } == .malformed)

        var optional: [UInt8] = []
        appendUInt32(1 << 20, to: &optional)
        optional += [0] + Self.ping.bytes
        let decoded = try decodeAll(frame(opCode: 2013, payload: optional), chunkSize: 64)
        #expect(decoded.first?.opMsg?.body == Self.ping)
    }

    @Test func truncatedSectionsAreRejected() throws {
        let body = Self.ping.bytes
        // The body's length runs past the end of the message.
        let shortBody: [UInt8] = [0, 0, 0, 0, 0] + body.dropLast(3)
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: shortBody), chunkSize: 1) } == .malformed)
        // A sequence whose size runs past the end.
        var longSequence: [UInt8] = [0, 0, 0, 0, 0] + body + [1]
        appendInt32(100, to: &longSequence)
        longSequence += Array("documents".utf8) + [0]
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: longSequence), chunkSize: 1) } == .malformed)
        // A sequence whose document overruns the sequence's own size.
        let doc = (["a": 1] as Document).bytes
        var overrun: [UInt8] = [0, 0, 0, 0, 0] + body + [1]
        appendInt32(Int32(4 + 2 + doc.count - 2), to: &overrun)
        overrun += [0x64, 0] + doc
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: overrun), chunkSize: 1) } == .malformed)
        // A sequence with no room for its identifier.
        var tiny: [UInt8] = [0, 0, 0, 0, 0] + body + [1]
        appendInt32(4, to: &tiny)
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: tiny), chunkSize: 1) } == .malformed)
        // Flags only.
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: [0, 0, 0, 0]), chunkSize: 1) } == .malformed)
        // Checksum flag without room for the checksum.
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: [1, 0, 0, 0, 0, 5]), chunkSize: 1) } == .malformed)
    }

    @Test func badSectionStructureIsRejected() throws {
        let body = Self.ping.bytes
        let twoBodies: [UInt8] = [0, 0, 0, 0, 0] + body + [0] + body
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: twoBodies), chunkSize: 16) } == .malformed)
        var noBody: [UInt8] = [0, 0, 0, 0, 1]
        appendInt32(6, to: &noBody)
        noBody += [0x78, 0]
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: noBody), chunkSize: 16) } == .malformed)
        let unknownKind: [UInt8] = [0, 0, 0, 0, 2] + body
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: unknownKind), chunkSize: 16) } == .malformed)
        var invalidBSON = [UInt8]([0, 0, 0, 0, 0]) + body
        invalidBSON[invalidBSON.count - 1] = 7  // missing terminator
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2013, payload: invalidBSON), chunkSize: 16) } == .malformed)
    }
}

/// Bytes from hex digits; spaces and line breaks are ignored.
func hexBytes(_ text: String) -> [UInt8]? {
    let digits = text.filter { !$0.isWhitespace && $0 != "\\" }
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
        bytes.append(byte)
        index = next
    }
    return bytes
}
