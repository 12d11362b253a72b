import OsmanthusBSON

/// The results of `Collection.aggregate`, produced lazily: streaming stages run as documents
/// are pulled, blocking stages on the first pull. Use from one thread at a time.
public final class AggregationCursor: Sequence, IteratorProtocol {
    private let stream: DocumentStream
    /// What `explain` shows: the pushed-down find and the stages after it.
    public let explain: Document
    public private(set) var isExhausted = false

    init(stream: DocumentStream, explain: Document) {
        self.stream = stream
        self.explain = explain
    }

    /// The next result, or nil at the end.
    public func nextDocument() throws -> Document? {
        guard !isExhausted else { return nil }
        let pulled: Document?
        do { pulled = try stream.next() } catch {
            isExhausted = true
            throw OsmanthusError.wrapping(error)
        }
        guard let document = pulled else {
            isExhausted = true
            return nil
        }
        return document
    }

    /// Up to `max` results.
    public func nextBatch(_ max: Int) throws -> [Document] {
        var batch = [Document]()
        while batch.count < max, let document = try nextDocument() { batch.append(document) }
        return batch
    }

    /// Every remaining result.
    public func all() throws -> [Document] {
        var documents = [Document]()
        while let document = try nextDocument() { documents.append(document) }
        return documents
    }

    /// For `for doc in cursor`: stops at the first error (use `nextDocument()` to see it).
    public func next() -> Document? {
        (try? nextDocument()) ?? nil
    }
}
