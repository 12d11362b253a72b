/// The one error type of OsmanthusBSON (shaped like `StorageError` and swift-nio's
/// `FileSystemError`): a code to match on, a human message and, for malformed BSON, the byte
/// offset where decoding stopped.
public struct BSONError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Bytes that are not a well-formed BSON document (lengths, terminators, types, values).
        public static let invalidDocument = Code("invalidDocument")
        /// A string or key whose bytes are not valid UTF-8.
        public static let invalidUTF8 = Code("invalidUTF8")
        /// A document over 16 MiB or nested deeper than 100 levels (`BSONLimits`).
        public static let limitExceeded = Code("limitExceeded")
        /// Text that is not JSON, or JSON that breaks an Extended JSON rule.
        public static let invalidExtendedJSON = Code("invalidExtendedJSON")
        /// A string that is not a Decimal128 number, or one that cannot be stored exactly.
        public static let invalidDecimal128 = Code("invalidDecimal128")
        /// A string that is not 24 hexadecimal digits.
        public static let invalidObjectId = Code("invalidObjectId")
        /// A value that cannot be encoded (a key with a NUL byte, a top-level non-document).
        public static let invalidArgument = Code("invalidArgument")
    }

    public var code: Code
    public var message: String
    /// For `.invalidDocument`, `.invalidUTF8` and `.limitExceeded` while decoding: the offset in
    /// the input bytes. For Extended JSON: the UTF-8 offset in the text.
    public var offset: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(code): \(message) (at offset \(offset))" }
        return "\(code): \(message)"
    }
}
