import NIOCore
import OsmanthusBSON

@testable import OsmanthusWire

/// Feeds `bytes` to a decoder the way a socket might: in chunks of `chunkSize` bytes (1 =
/// byte by byte), collecting every message; at the end nothing may be left over.
func decodeAll(_ bytes: [UInt8], chunkSize: Int, decoder: MessageDecoder = MessageDecoder()) throws -> [WireMessage] {
    var buffer = ByteBuffer()
    var messages: [WireMessage] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + chunkSize, bytes.count)
        buffer.writeBytes(bytes[offset..<end])
        offset = end
        while let message = try decoder.next(from: &buffer) { messages.append(message) }
    }
    if buffer.readableBytes != 0 { throw WireError(.malformed, "\(buffer.readableBytes) bytes left over") }
    return messages
}

/// The message's bytes, as the encoder writes them.
func encode(_ message: WireMessage) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try message.write(to: &buffer)
    return Array(buffer.readableBytesView)
}

/// A hand-built message: header then `payload`, with the length patched (or forced).
func frame(opCode: Int32, requestID: Int32 = 7, responseTo: Int32 = 0, payload: [UInt8], length: Int32? = nil) -> [UInt8] {
    var bytes: [UInt8] = []
    appendInt32(length ?? Int32(16 + payload.count), to: &bytes)
    appendInt32(requestID, to: &bytes)
    appendInt32(responseTo, to: &bytes)
    appendInt32(opCode, to: &bytes)
    return bytes + payload
}

func appendInt32(_ value: Int32, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// Runs `body` and returns the WireError code it threw, or nil if it threw none.
func wireErrorCode(_ body: () throws -> Void) -> WireError.Code? {
    do {
        try body()
        return nil
    } catch let error as WireError {
        return error.code
    } catch {
        return nil
    }
}

extension WireMessage {
    var opMsg: OpMsg? { if case .msg(let m) = body { m } else { nil } }
    var opQuery: OpQuery? { if case .query(let q) = body { q } else { nil } }
    var opReply: OpReply? { if case .reply(let r) = body { r } else { nil } }
}
