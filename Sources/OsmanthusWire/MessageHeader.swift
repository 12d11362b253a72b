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
    /// One look at the bytes, not four `readInteger`s (each checks bounds and ownership).
    public static func read(from buffer: inout ByteBuffer) -> MessageHeader? {
        guard buffer.readableBytes >= WireFormat.headerSize else { return nil }
        let header = buffer.withUnsafeReadableBytes { bytes in
            MessageHeader(
                messageLength: Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: Int32.self)),
                requestID: Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self)),
                responseTo: Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int32.self)),
                opCode: OpCode(rawValue: Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: Int32.self))))
        }
        buffer.moveReaderIndex(forwardBy: WireFormat.headerSize)
        return header
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(messageLength, endianness: .little)
        buffer.writeInteger(requestID, endianness: .little)
        buffer.writeInteger(responseTo, endianness: .little)
        buffer.writeInteger(opCode.rawValue, endianness: .little)
    }
}
