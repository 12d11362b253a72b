import NIOCore

/// Frames the byte stream into messages: reads the int32 length, waits for that many bytes,
/// parses them. A length under the 16-byte header or over `maxMessageSize` cannot be
/// recovered from, so it throws (and the server closes the connection).
///
/// `next(from:)` is the whole logic, callable without a channel; `decode(context:buffer:)`
/// hands its results up the pipeline.
public struct MessageDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = WireMessage

    public let maxMessageSize: Int

    public init(maxMessageSize: Int = WireFormat.maxMessageSizeBytes) {
        self.maxMessageSize = maxMessageSize
    }

    /// The next whole message in `buffer`, or nil (consuming nothing) if it is not all there.
    public func next(from buffer: inout ByteBuffer) throws -> WireMessage? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: Int32.self) else {
            return nil
        }
        guard length >= WireFormat.headerSize, Int(length) <= maxMessageSize else {
            throw WireError(
                .invalidLength,
                "messageLength \(length) is outside \(WireFormat.headerSize)...\(maxMessageSize)")
        }
        guard let frame = buffer.readSlice(length: Int(length)) else { return nil }
        return try WireMessage.parse(frame: frame)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // A partial message at EOF is dropped: its sender is gone.
        try decode(context: context, buffer: &buffer)
    }
}
