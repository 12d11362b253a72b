/// The constants of MongoDB's wire protocol subset that Osmanthus speaks (SPEC.md §13).
/// Changing one changes what clients see: keep them in step with the `hello` reply.
public enum WireFormat {
    /// messageLength, requestID, responseTo, opCode: four little-endian int32s.
    public static let headerSize = 16
    /// The largest BSON document a client may send or receive (16 MiB).
    public static let maxBsonObjectSize = 16 * 1024 * 1024
    /// The largest message, header included.
    public static let maxMessageSizeBytes = 48_000_000
    /// The most operations one insert/update/delete command may carry.
    public static let maxWriteBatchSize = 100_000
    /// The wire versions advertised in `hello` (17 = MongoDB 6.0).
    public static let minWireVersion: Int32 = 0
    public static let maxWireVersion: Int32 = 17

    /// OP_MSG section kinds.
    public static let sectionKindBody: UInt8 = 0
    public static let sectionKindDocumentSequence: UInt8 = 1
}

/// A message's opCode (the fourth header field).
public struct OpCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let reply = OpCode(rawValue: 1)
    public static let update = OpCode(rawValue: 2001)  // removed in MongoDB 6.0; rejected
    public static let insert = OpCode(rawValue: 2002)  // removed; rejected
    public static let query = OpCode(rawValue: 2004)  // only the legacy handshake is answered
    public static let getMore = OpCode(rawValue: 2005)  // removed; rejected
    public static let delete = OpCode(rawValue: 2006)  // removed; rejected
    public static let killCursors = OpCode(rawValue: 2007)  // removed; rejected
    public static let compressed = OpCode(rawValue: 2012)
    public static let msg = OpCode(rawValue: 2013)

    public var description: String {
        switch self {
        case .reply: "OP_REPLY"
        case .update: "OP_UPDATE"
        case .insert: "OP_INSERT"
        case .query: "OP_QUERY"
        case .getMore: "OP_GET_MORE"
        case .delete: "OP_DELETE"
        case .killCursors: "OP_KILL_CURSORS"
        case .compressed: "OP_COMPRESSED"
        case .msg: "OP_MSG"
        default: "opCode \(rawValue)"
        }
    }
}

/// OP_COMPRESSED compressor ids and the names negotiated in `hello`'s `compression` field.
public enum Compressor: UInt8, Sendable, CaseIterable {
    case noop = 0
    case snappy = 1
    case zlib = 2
    case zstd = 3

    public var name: String {
        switch self {
        case .noop: "noop"
        case .snappy: "snappy"
        case .zlib: "zlib"
        case .zstd: "zstd"
        }
    }

    /// The compressors this server can decode and encode (noop is implicit and never negotiated).
    public static let supported: [Compressor] = [.noop, .zstd]

    public var isSupported: Bool { Compressor.supported.contains(self) }
}
