/// The error of the wire codec: a message that cannot be framed or parsed. The connection that
/// sent it is closed (the stream cannot be resynchronised), so every case is fatal to it.
public struct WireError: Error, Sendable, CustomStringConvertible, Hashable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A messageLength below the 16-byte header or above `maxMessageSizeBytes`.
        public static let invalidLength = Code("invalidLength")
        /// Bytes that do not parse as the message their opCode names.
        public static let malformed = Code("malformed")
        /// An OP_MSG whose CRC-32C does not match its bytes.
        public static let checksumMismatch = Code("checksumMismatch")
        /// An opCode this server does not accept (the pre-3.6 CRUD opcodes, OP_REPLY from a client).
        public static let unsupportedOpCode = Code("unsupportedOpCode")
        /// An OP_COMPRESSED compressor id that is unknown or not built in.
        public static let unsupportedCompressor = Code("unsupportedCompressor")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
