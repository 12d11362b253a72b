import OsmanthusBSON

/// What a change stream watches.
public enum ChangeStreamScope: Sendable, Equatable {
    case collection(database: String, name: String)
    case database(String)
    /// Every database except admin, config and local.
    case cluster

    static let internalDatabases: Set<String> = ["admin", "config", "local"]
}

/// How a change stream starts and what its events carry (MongoDB's `$changeStream` options).
public struct ChangeStreamOptions: Sendable {
    /// `fullDocument` of update events.
    public enum FullDocument: String, Sendable {
        /// No fullDocument on updates.
        case `default`
        /// The document as it is when the event is read (null if gone since).
        case updateLookup
        /// The post-image, stored for collections with pre/post images on; else null.
        case whenAvailable
        /// The post-image, or the stream fails (280) when there is none.
        case required
    }

    /// `fullDocumentBeforeChange` of update, replace and delete events.
    public enum FullDocumentBeforeChange: String, Sendable {
        case off, whenAvailable, required
    }

    public var fullDocument: FullDocument = .default
    public var fullDocumentBeforeChange: FullDocumentBeforeChange = .off
    /// Start after the event with this token (not an invalidate).
    public var resumeAfter: Document?
    /// Start after the event with this token, which may be an invalidate.
    public var startAfter: Document?
    /// Start with the first event whose clusterTime is at or after this timestamp.
    public var startAtOperationTime: BSONValue?
    /// Stages applied to each event: `$match`, `$project`, `$unset`.
    public var pipeline: [Document] = []
    /// MongoDB 6.0's `showExpandedEvents`: also deliver catalog events (create, createIndexes,
    /// dropIndexes, modify) with their `operationDescription`.
    public var showExpandedEvents = false

    public init(
        fullDocument: FullDocument = .default, fullDocumentBeforeChange: FullDocumentBeforeChange = .off,
        resumeAfter: Document? = nil, startAfter: Document? = nil, startAtOperationTime: BSONValue? = nil,
        pipeline: [Document] = [], showExpandedEvents: Bool = false
    ) {
        self.showExpandedEvents = showExpandedEvents
        self.fullDocument = fullDocument
        self.fullDocumentBeforeChange = fullDocumentBeforeChange
        self.resumeAfter = resumeAfter
        self.startAfter = startAfter
        self.startAtOperationTime = startAtOperationTime
        self.pipeline = pipeline
    }
}

/// A change stream's resume token, `{_data: "<hex>"}` (SPEC.md §16.3): the record's sequence
/// and what the token stands for. Opaque to clients.
struct ResumeToken: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        /// An event of the record at `sequence`.
        case event = 0
        /// The invalidate that follows the record at `sequence`.
        case invalidate = 1
        /// No event: every record up to `sequence` was read (postBatchResumeToken).
        case highWater = 2
    }

    var sequence: UInt64
    var kind: Kind

    var document: Document {
        var bytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: sequence >> UInt64(shift))) }
        bytes.append(kind.rawValue)
        let digits = Array("0123456789ABCDEF".utf8)
        var text: [UInt8] = []
        for b in bytes {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 0x0F)])
        }
        return ["_data": .string(String(decoding: text, as: UTF8.self))]
    }

    init(sequence: UInt64, kind: Kind) {
        self.sequence = sequence
        self.kind = kind
    }

    init(_ doc: Document) throws {
        let bad = OsmanthusError(.invalidResumeToken, "invalid resume token: \(doc)")
        guard case .string(let text)? = doc["_data"] else { throw bad }
        let chars = Array(text.utf8)
        guard chars.count == 18 else { throw bad }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 18, by: 2) {
            guard let hi = Self.nibble(chars[i]), let lo = Self.nibble(chars[i + 1]) else { throw bad }
            bytes.append(hi << 4 | lo)
        }
        guard let kind = Kind(rawValue: bytes[8]) else { throw bad }
        sequence = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        self.kind = kind
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
