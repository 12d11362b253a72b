import NIOCore

/// The 16-byte header every message starts with (SPEC.md §13):
///
/// ```
/// int32 messageLength   total size in bytes, this header included
/// int32 requestID       the sender's id for this message
/// int32 responseTo      for a reply: the requestID it answers; else 0
/// int32 opCode          see `OpCode`
/// ```
/// All integers are little-endian.
public struct MessageHeader: Sendable, Hashable {
    public var messageLength: Int32
    public var requestID: Int32
    public var responseTo: Int32
    public var opCode: OpCode

    public init(messageLength: Int32, requestID: Int32, responseTo: Int32, opCode: OpCode) {
        self.messageLength = messageLength
        self.requestID = requestID
        self.responseTo = responseTo
        self.opCode = opCode
    }

    /// Reads a header, or returns nil (consuming nothing) if fewer than 16 bytes are readable.
    public static func read(from buffer: inout ByteBuffer) -> MessageHeader? {
        guard buffer.readableBytes >= WireFormat.headerSize,
            let length = buffer.readInteger(endianness: .little, as: Int32.self),
            let requestID = buffer.readInteger(endianness: .little, as: Int32.self),
            let responseTo = buffer.readInteger(endianness: .little, as: Int32.self),
            let opCode = buffer.readInteger(endianness: .little, as: Int32.self)
        else { return nil }
        return MessageHeader(
            messageLength: length, requestID: requestID, responseTo: responseTo, opCode: OpCode(rawValue: opCode))
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(messageLength, endianness: .little)
        buffer.writeInteger(requestID, endianness: .little)
        buffer.writeInteger(responseTo, endianness: .little)
        buffer.writeInteger(opCode.rawValue, endianness: .little)
    }
}
