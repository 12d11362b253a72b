import NIOCore
import OsmanthusBSON
import Testing

@testable import OsmanthusWire

struct OpQueryTests {
    @Test func legacyHandshakeRoundTripsWholeAndByteByByte() throws {
        let query = OpQuery(
            flags: 4, fullCollectionName: "admin.$cmd", numberToSkip: 0, numberToReturn: -1,
            query: ["isMaster": 1, "helloOk": true, "client": ["driver": ["name": "PyMongo"]]])
        let message = WireMessage(requestID: 11, body: .query(query))
        let bytes = try encode(message)
        #expect(try decodeAll(bytes, chunkSize: bytes.count) == [message])
        let decoded = try decodeAll(bytes, chunkSize: 1)
        #expect(decoded == [message])
        #expect(decoded.first?.opQuery?.databaseName == "admin")
        #expect(decoded.first?.opQuery?.command["isMaster"] == 1)
    }

    @Test func returnFieldsSelectorRoundTrips() throws {
        let query = OpQuery(fullCollectionName: "db.$cmd", query: ["ping": 1], returnFieldsSelector: ["ok": 1])
        let message = WireMessage(requestID: 1, body: .query(query))
        #expect(try decodeAll(try encode(message), chunkSize: 2) == [message])
    }

    @Test func wrappedQueryExposesTheInnerCommand() throws {
        let query = OpQuery(
            fullCollectionName: "admin.$cmd", query: ["$query": ["ismaster": 1], "$readPreference": ["mode": "primary"]])
        #expect(query.command == ["ismaster": 1])
    }

    @Test func truncatedOrTrailingBytesAreRejected() throws {
        let bytes = try encode(WireMessage(requestID: 1, body: .query(OpQuery(fullCollectionName: "admin.$cmd", query: ["ping": 1]))))
        // Cut inside the query document, with the header's length fixed up to match.
        var cut = Array(bytes.dropLast(3))
        cut.replaceSubrange(0..<4, with: withUnsafeBytes(of: Int32(cut.count).littleEndian, Array.init))
        #expect(wireErrorCode { _ = try decodeAll(cut, chunkSize: 1) } == .malformed)
        // Two bytes of trailing garbage after the query.
        var trailing = bytes + [1, 2]
        trailing.replaceSubrange(0..<4, with: withUnsafeBytes(of: Int32(trailing.count).littleEndian, Array.init))
        #expect(wireErrorCode { _ = try decodeAll(trailing, chunkSize: 1) } == .malformed)
        // A collection name with no terminator.
        var payload: [UInt8] = []
        appendInt32(0, to: &payload)
        payload += Array("admin.$cmd".utf8)
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2004, payload: payload), chunkSize: 1) } == .malformed)
    }
}
