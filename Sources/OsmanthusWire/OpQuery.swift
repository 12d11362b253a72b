import NIOCore
import OsmanthusBSON

/// OP_QUERY (opCode 2004). Drivers still open a connection with it (`isMaster` on `admin.$cmd`),
/// so the server answers that handshake and nothing else (SPEC.md §13):
///
/// ```
/// int32   flags
/// cstring fullCollectionName     "admin.$cmd"
/// int32   numberToSkip
/// int32   numberToReturn
/// document query
/// document returnFieldsSelector  optional
/// ```
public struct OpQuery: Sendable, Hashable {
    public var flags: Int32
    public var fullCollectionName: String
    public var numberToSkip: Int32
    public var numberToReturn: Int32
    public var query: Document
    public var returnFieldsSelector: Document?

    public init(
        flags: Int32 = 0, fullCollectionName: String, numberToSkip: Int32 = 0, numberToReturn: Int32 = -1,
        query: Document, returnFieldsSelector: Document? = nil
    ) {
        self.flags = flags
        self.fullCollectionName = fullCollectionName
        self.numberToSkip = numberToSkip
        self.numberToReturn = numberToReturn
        self.query = query
        self.returnFieldsSelector = returnFieldsSelector
    }

    /// The database part of `fullCollectionName` ("admin" for "admin.$cmd").
    public var databaseName: Substring {
        fullCollectionName.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The command a query on `<db>.$cmd` carries: the query itself, or its `$query`/`query`
    /// field when a driver wrapped it with read preferences.
    public var command: Document {
        if let wrapped = query["$query"]?.documentValue ?? query["query"]?.documentValue { return wrapped }
        return query
    }

    /// Parses the bytes after the header.
    public init(parsing buffer: inout ByteBuffer) throws {
        let flags = try buffer.readInt32(context: "OP_QUERY flags")
        let name = try buffer.readCString(context: "OP_QUERY fullCollectionName")
        let skip = try buffer.readInt32(context: "OP_QUERY numberToSkip")
        let toReturn = try buffer.readInt32(context: "OP_QUERY numberToReturn")
        let query = try buffer.readBSONDocument(context: "OP_QUERY query")
        let selector = buffer.readableBytes > 0 ? try buffer.readBSONDocument(context: "OP_QUERY returnFieldsSelector") : nil
        guard buffer.readableBytes == 0 else {
            throw WireError(.malformed, "OP_QUERY: \(buffer.readableBytes) trailing bytes")
        }
        self.init(
            flags: flags, fullCollectionName: name, numberToSkip: skip, numberToReturn: toReturn, query: query,
            returnFieldsSelector: selector)
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(flags, endianness: .little)
        buffer.writeCString(fullCollectionName)
        buffer.writeInteger(numberToSkip, endianness: .little)
        buffer.writeInteger(numberToReturn, endianness: .little)
        buffer.writeBSONDocument(query)
        if let returnFieldsSelector { buffer.writeBSONDocument(returnFieldsSelector) }
    }
}
