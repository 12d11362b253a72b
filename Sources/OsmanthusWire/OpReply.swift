import NIOCore
import OsmanthusBSON

/// OP_REPLY (opCode 1), the answer to an OP_QUERY handshake (SPEC.md §13):
///
/// ```
/// int32     responseFlags    bit 1 QueryFailure, bit 3 AwaitCapable
/// int64     cursorID         0: no cursor
/// int32     startingFrom
/// int32     numberReturned
/// document* documents
/// ```
public struct OpReply: Sendable, Hashable {
    public static let queryFailure: Int32 = 1 << 1
    public static let awaitCapable: Int32 = 1 << 3

    public var responseFlags: Int32
    public var cursorID: Int64
    public var startingFrom: Int32
    public var documents: [Document]

    public init(responseFlags: Int32 = 0, cursorID: Int64 = 0, startingFrom: Int32 = 0, documents: [Document]) {
        self.responseFlags = responseFlags
        self.cursorID = cursorID
        self.startingFrom = startingFrom
        self.documents = documents
    }

    /// Parses the bytes after the header; numberReturned must match the documents present.
    public init(parsing buffer: inout ByteBuffer) throws {
        let flags = try buffer.readInt32(context: "OP_REPLY responseFlags")
        guard let cursorID = buffer.readInteger(endianness: .little, as: Int64.self) else {
            throw WireError(.malformed, "OP_REPLY cursorID: truncated")
        }
        let startingFrom = try buffer.readInt32(context: "OP_REPLY startingFrom")
        let count = try buffer.readInt32(context: "OP_REPLY numberReturned")
        guard count >= 0 else { throw WireError(.malformed, "OP_REPLY: numberReturned \(count)") }
        var documents: [Document] = []
        while buffer.readableBytes > 0 {
            documents.append(try buffer.readBSONDocument(context: "OP_REPLY document \(documents.count)"))
        }
        guard documents.count == Int(count) else {
            throw WireError(.malformed, "OP_REPLY: numberReturned \(count) but \(documents.count) documents")
        }
        self.init(responseFlags: flags, cursorID: cursorID, startingFrom: startingFrom, documents: documents)
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(responseFlags, endianness: .little)
        buffer.writeInteger(cursorID, endianness: .little)
        buffer.writeInteger(startingFrom, endianness: .little)
        buffer.writeInteger(Int32(documents.count), endianness: .little)
        for document in documents { buffer.writeBSONDocument(document) }
    }
}
