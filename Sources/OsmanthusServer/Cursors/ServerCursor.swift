import OsmanthusBSON

/// Where a server cursor's documents come from: the embedded API's `Cursor`, or anything
/// else that yields documents one at a time (an aggregation result, a list of collections).
protocol DocumentSource: AnyObject {
    func next() throws -> Document?
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
    let id: Int64
    /// "db.collection", echoed in replies and checked by getMore.
    let namespace: String
    let connectionID: Int64
    /// The session that opened it (endSessions and killAllSessions close it).
    let sessionID: BSONValue?
    /// A limit on the documents the whole cursor returns (find's `limit`), if the source
    /// does not apply it itself; 0 = none.
    private var remaining: Int
    private let source: any DocumentSource
    /// A document read but not sent because the batch was full.
    private var lookahead: Document?
    private(set) var isExhausted = false

    init(id: Int64, namespace: String, connectionID: Int64, sessionID: BSONValue?, source: any DocumentSource, limit: Int = 0) {
        self.id = id
        self.namespace = namespace
        self.connectionID = connectionID
        self.sessionID = sessionID
        self.source = source
        self.remaining = limit
    }

    /// Up to `maxCount` documents (nil: no count limit) whose sizes add up to at most
    /// `maxBytes` — except that a batch always takes at least one document. Reads one document
    /// ahead, so a cursor whose documents all fit reports itself exhausted at once.
    func nextBatch(maxCount: Int?, maxBytes: Int) throws -> [Document] {
        var batch: [Document] = []
        var bytes = 0
        while maxCount.map({ batch.count < $0 }) ?? true {
            guard let document = try pull() else { break }
            if !batch.isEmpty, bytes + document.byteCount > maxBytes {
                lookahead = document
                return batch
            }
            bytes += document.byteCount
            batch.append(document)
        }
        if !isExhausted, lookahead == nil {
            lookahead = try pull()
        }
        return batch
    }

    private func pull() throws -> Document? {
        if let document = lookahead {
            lookahead = nil
            return document
        }
        guard !isExhausted else { return nil }
        guard let document = try source.next() else {
            isExhausted = true
            return nil
        }
        if remaining > 0 {
            remaining -= 1
            if remaining == 0 { isExhausted = true }
        }
        return document
    }
}
