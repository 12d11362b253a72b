import OsmanthusBSON
import OsmanthusWire

/// Where a server cursor's documents come from: the embedded API's `Cursor`, or anything
/// else that yields documents one at a time (an aggregation result, a list of collections).
protocol DocumentSource: AnyObject {
    func next() throws -> Document?
}

/// A source that reads from the engine for long: told which operation reads it now, so a
/// killOp reaches into the scan.
protocol InterruptibleSource: DocumentSource {
    var operation: RunningOperation? { get set }
}

/// The documents already in hand, handed out in order.
final class ArrayDocumentSource: DocumentSource {
    private var documents: ArraySlice<Document>
    init(_ documents: [Document]) { self.documents = documents[...] }
    func next() throws -> Document? { documents.popFirst() }
}

/// A cursor the server keeps between `find`/`getMore` calls.
///
/// @unchecked Sendable: its mutable state (`source`, `lookahead`, `isExhausted`) is used by one
/// command at a time — `CursorManager` hands a cursor out exclusively (`checkOut`) and takes it
/// back (`checkIn`) under its lock, which also orders the memory accesses between threads.
final class ServerCursor: @unchecked Sendable {
    /// 0 until `CursorManager.register` gives it an id (and shares it).
    fileprivate(set) var id: Int64 = 0
    /// "db.collection", echoed in replies and checked by getMore.
    let namespace: String
    let connectionID: Int64
    /// The session that opened it (endSessions and killAllSessions close it).
    let sessionID: BSONValue?
    private let source: any DocumentSource
    /// A document read but not sent because the batch was full (or read to look ahead).
    private var lookahead: Document?
    /// The source has returned nil.
    private var sourceDone = false

    /// No documents are left to send.
    var isExhausted: Bool { lookahead == nil && sourceDone }

    init(namespace: String, connectionID: Int64, sessionID: BSONValue?, source: any DocumentSource) {
        self.namespace = namespace
        self.connectionID = connectionID
        self.sessionID = sessionID
        self.source = source
    }

    /// The most bytes of documents in one batch: the reply must stay within
    /// maxBsonObjectSize, with room for the cursor fields and each array element's key.
    static let maxBatchBytes = WireFormat.maxBsonObjectSize - 64 * 1024
    /// Bytes an array element adds besides its document (type byte, index key).
    static let elementOverhead = 8

    /// Up to `maxCount` documents (nil: no count limit) whose sizes add up to at most
    /// `maxBytes` — except that a batch always takes at least one document. Reads one document
    /// ahead, so a cursor whose documents all fit reports itself exhausted at once.
    /// `operation` (the command reading) is checked for `killOp` between documents and, for a
    /// collection scan, within one.
    func nextBatch(
        maxCount: Int?, maxBytes: Int = ServerCursor.maxBatchBytes, operation: RunningOperation? = nil
    ) throws -> [Document] {
        let interruptible = source as? InterruptibleSource
        interruptible?.operation = operation
        defer { interruptible?.operation = nil }
        var batch: [Document] = []
        var bytes = 0
        while maxCount.map({ batch.count < $0 }) ?? true {
            try operation?.checkForInterrupt()
            guard let document = try pull() else { break }
            let size = document.byteCount + Self.elementOverhead
            if !batch.isEmpty, bytes + size > maxBytes {
                lookahead = document
                return batch
            }
            bytes += size
            batch.append(document)
        }
        if lookahead == nil { lookahead = try pull() }
        return batch
    }

    private func pull() throws -> Document? {
        if let document = lookahead {
            lookahead = nil
            return document
        }
        guard !sourceDone else { return nil }
        guard let document = try source.next() else {
            sourceDone = true
            return nil
        }
        return document
    }
}

extension CursorManager {
    /// Gives `cursor` its id (called under the manager's lock, before anyone else sees it).
    static func assign(_ id: Int64, to cursor: ServerCursor) { cursor.id = id }
}
