/// The one error type of the storage engine (shaped like swift-nio's `FileSystemError`).
///
/// Corruption is always told apart from I/O failure: a `.corruption` error names the file and the
/// byte offset where the damage was found.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Stored bytes fail a checksum or do not parse.
        public static let corruption = Code("corruption")
        /// The operating system refused a read, write, sync or other call.
        public static let io = Code("io")
        /// The device is full (ENOSPC, EDQUOT).
        public static let noSpace = Code("noSpace")
        /// A caller passed something the engine cannot accept (empty key, bad option).
        public static let invalidArgument = Code("invalidArgument")
        /// A file or directory that must exist does not.
        public static let notFound = Code("notFound")
        /// The database was closed, or a background error made it refuse writes.
        public static let closed = Code("closed")
        /// Another process holds the directory's LOCK file.
        public static let busy = Code("busy")
        /// A size limit was exceeded.
        public static let limit = Code("limit")
        /// An operation that is not allowed in this state (e.g. writing to a read-only database).
        public static let unsupported = Code("unsupported")
    }

    public var code: Code
    public var message: String
    /// For corruption: the file where it was found.
    public var file: String?
    /// For corruption: the byte offset in `file`.
    public var offset: UInt64?
    /// The `errno` for I/O failures.
    public var errno: Int32?
    public var cause: (any Error & Sendable)?

    public init(
        _ code: Code, _ message: String, file: String? = nil, offset: UInt64? = nil,
        errno: Int32? = nil, cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.errno = errno
        self.cause = cause
    }

    public static func corruption(_ message: String, file: String?, offset: UInt64?) -> StorageError {
        StorageError(.corruption, message, file: file, offset: offset)
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let file {
            text += " [file \(file)"
            if let offset { text += " at offset \(offset)" }
            text += "]"
        }
        if let errno { text += " (errno \(errno))" }
        if let cause { text += " caused by: \(cause)" }
        return text
    }
}
