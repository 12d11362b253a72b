import NIOCore

/// Writes outgoing messages (see `WireMessage.write(to:)`).
public struct MessageEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = WireMessage

    public init() {}

    public func encode(data: WireMessage, out: inout ByteBuffer) throws {
        try data.write(to: &out)
    }
}
