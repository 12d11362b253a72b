import NIOCore
import OsmanthusBSON
import Testing

@testable import OsmanthusWire

struct OpReplyTests {
    @Test func replyRoundTripsWholeAndByteByByte() throws {
        let reply = OpReply(
            responseFlags: OpReply.awaitCapable, cursorID: 0, startingFrom: 0,
            documents: [["ismaster": true, "ok": 1.0], ["second": "doc"]])
        let message = WireMessage(requestID: 2, responseTo: 11, body: .reply(reply))
        let bytes = try encode(message)
        #expect(bytes.count == 16 + 20 + reply.documents.reduce(0) { $0 + $1.byteCount })
        #expect(try decodeAll(bytes, chunkSize: 1) == [message])
        #expect(try decodeAll(bytes, chunkSize: bytes.count) == [message])
    }

    @Test func emptyReplyRoundTrips() throws {
        let message = WireMessage(requestID: 2, responseTo: 1, body: .reply(OpReply(cursorID: 77, documents: [])))
        #expect(try decodeAll(try encode(message), chunkSize: 3).first?.opReply?.cursorID == 77)
    }

    @Test func numberReturnedThatDisagreesIsRejected() throws {
        var bytes = try encode(WireMessage(requestID: 2, body: .reply(OpReply(documents: [["ok": 1]]))))
        bytes[16 + 16] = 2  // numberReturned: 2, but one document follows
        #expect(wireErrorCode { _ = try decodeAll(bytes, chunkSize: 1) } == .malformed)
    }
}
