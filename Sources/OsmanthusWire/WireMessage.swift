import NIOCore

/// One framed message: the header's ids and a parsed body. A message that arrived as
/// OP_COMPRESSED is stored decompressed with its `compressor` noted, so the reply can be
/// compressed the same way; setting `compressor` on an outgoing message compresses it.
public struct WireMessage: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        case msg(OpMsg)
        case query(OpQuery)
        case reply(OpReply)

        public var opCode: OpCode {
            switch self {
            case .msg: .msg
            case .query: .query
            case .reply: .reply
            }
        }

        func write(to buffer: inout ByteBuffer) {
            switch self {
            case .msg(let message): message.write(to: &buffer)
            case .query(let query): query.write(to: &buffer)
            case .reply(let reply): reply.write(to: &buffer)
            }
        }
    }

    public var requestID: Int32
    public var responseTo: Int32
    public var body: Body
    public var compressor: Compressor?

    public init(requestID: Int32, responseTo: Int32 = 0, body: Body, compressor: Compressor? = nil) {
        self.requestID = requestID
        self.responseTo = responseTo
        self.body = body
        self.compressor = compressor
    }

    /// Parses one whole message (header included) whose length the framer has checked.
    /// Verifies an OP_MSG checksum; unwraps OP_COMPRESSED.
    public static func parse(frame: ByteBuffer) throws -> WireMessage {
        var buffer = frame
        guard let header = MessageHeader.read(from: &buffer), Int(header.messageLength) == frame.readableBytes else {
            throw WireError(.invalidLength, "message length does not match its frame")
        }
        switch header.opCode {
        case .msg:
            if let flags = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self),
                OpMsg.Flags(rawValue: flags).contains(.checksumPresent)
            {
                try verifyChecksum(frame: frame)
            }
            let message = try OpMsg(parsing: &buffer)
            return WireMessage(requestID: header.requestID, responseTo: header.responseTo, body: .msg(message))
        case .query:
            let query = try OpQuery(parsing: &buffer)
            return WireMessage(requestID: header.requestID, responseTo: header.responseTo, body: .query(query))
        case .reply:
            let reply = try OpReply(parsing: &buffer)
            return WireMessage(requestID: header.requestID, responseTo: header.responseTo, body: .reply(reply))
        case .compressed:
            let compressed = try OpCompressed(parsing: &buffer)
            guard compressed.originalOpCode != .compressed else {
                throw WireError(.malformed, "OP_COMPRESSED inside OP_COMPRESSED")
            }
            let payload = try compressed.decompressed()
            var inner = ByteBuffer()
            inner.reserveCapacity(WireFormat.headerSize + payload.readableBytes)
            MessageHeader(
                messageLength: Int32(WireFormat.headerSize + payload.readableBytes), requestID: header.requestID,
                responseTo: header.responseTo, opCode: compressed.originalOpCode
            ).write(to: &inner)
            inner.writeImmutableBuffer(payload)
            var message = try parse(frame: inner)
            message.compressor = compressed.compressor
            return message
        default:
            throw WireError(.unsupportedOpCode, "\(header.opCode) is not supported")
        }
    }

    private static func verifyChecksum(frame: ByteBuffer) throws {
        let end = frame.readerIndex + frame.readableBytes
        guard frame.readableBytes >= WireFormat.headerSize + 8,
            let stored = frame.getInteger(at: end - 4, endianness: .little, as: UInt32.self),
            let covered = frame.getSlice(at: frame.readerIndex, length: frame.readableBytes - 4)
        else {
            throw WireError(.malformed, "OP_MSG: too short for its checksum")
        }
        let computed = OpMsg.checksum(of: covered.readableBytesView)
        guard computed == stored else {
            throw WireError(
                .checksumMismatch,
                "OP_MSG checksum 0x\(String(stored, radix: 16)) but bytes give 0x\(String(computed, radix: 16))")
        }
    }

    /// Writes the whole message, header included: compressed when `compressor` is set, with an
    /// OP_MSG checksum when its flags ask for one (never inside OP_COMPRESSED).
    public func write(to buffer: inout ByteBuffer) throws {
        let start = buffer.writerIndex
        var body = body
        if let compressor {
            if case .msg(var message) = body, message.flags.contains(.checksumPresent) {
                message.flags.remove(.checksumPresent)
                body = .msg(message)
            }
            var payload = ByteBuffer()
            body.write(to: &payload)
            let compressed = try OpCompressed(compressing: payload, originalOpCode: body.opCode, compressor: compressor)
            MessageHeader(messageLength: 0, requestID: requestID, responseTo: responseTo, opCode: .compressed)
                .write(to: &buffer)
            compressed.write(to: &buffer)
        } else {
            MessageHeader(messageLength: 0, requestID: requestID, responseTo: responseTo, opCode: body.opCode)
                .write(to: &buffer)
            body.write(to: &buffer)
            if case .msg(let message) = body, message.flags.contains(.checksumPresent) {
                buffer.setInteger(Int32(truncatingIfNeeded: buffer.writerIndex - start + 4), at: start, endianness: .little)
                if let covered = buffer.viewBytes(at: start, length: buffer.writerIndex - start) {
                    buffer.writeInteger(OpMsg.checksum(of: covered), endianness: .little)
                }
            }
        }
        let length = buffer.writerIndex - start
        guard length <= WireFormat.maxMessageSizeBytes else {
            buffer.moveWriterIndex(to: start)
            throw WireError(.invalidLength, "message of \(length) bytes is over the \(WireFormat.maxMessageSizeBytes)-byte limit")
        }
        buffer.setInteger(Int32(length), at: start, endianness: .little)
    }
}
