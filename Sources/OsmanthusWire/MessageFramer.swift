import NIOCore

/// A connection's inbound bytes, cut into whole messages (SPEC.md §13) without a pipeline
/// handler: the server's connection handler feeds it each read and takes the messages out.
/// `MessageDecoder` decides where a message ends; this keeps the bytes between reads.
///
/// Why not NIO's `ByteToMessageHandler`: for a request that arrives in one read (the usual
/// case) it still copies nothing, but its re-entrancy state machine, its extra pipeline hop
/// and the boxing of each message into `NIOAny` cost about as much as parsing the header
/// and the command together. Here a read that holds only whole messages is sliced in place;
/// only a message split across reads is gathered into one buffer.
public struct MessageFramer: Sendable {
    private let decoder: MessageDecoder
    /// Bytes read but not yet framed: nil when the last read ended on a message boundary.
    private var leftover: ByteBuffer?

    public init(maxMessageSize: Int = WireFormat.maxMessageSizeBytes) {
        self.decoder = MessageDecoder(maxMessageSize: maxMessageSize)
    }

    /// Bytes held back waiting for the rest of their message.
    public var bufferedBytes: Int { leftover?.readableBytes ?? 0 }

    /// The storage held for them (tests check it does not grow without bound).
    var bufferedCapacity: Int { leftover?.capacity ?? 0 }

    /// Appends one read and calls `body` with each whole message now complete, in order.
    /// Throws the `WireError` of the first undecodable message (the stream cannot be
    /// resynchronised after it: the caller closes the connection); messages before it have
    /// been handed out.
    public mutating func feed(_ bytes: ByteBuffer, _ body: (WireMessage) throws -> Void) throws {
        var buffer: ByteBuffer
        if var held = leftover.take() {
            // Reclaim what was framed already before growing: `held` is the only reference
            // (its messages were parsed into their own storage), so this moves bytes in place.
            if held.readerIndex > 0 { _ = held.discardReadBytes() }
            var bytes = bytes
            held.writeBuffer(&bytes)
            buffer = held
        } else {
            buffer = bytes
        }
        while let message = try decoder.next(from: &buffer) {
            try body(message)
        }
        if buffer.readableBytes > 0 { leftover = buffer }
    }
}

extension Optional {
    fileprivate mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
