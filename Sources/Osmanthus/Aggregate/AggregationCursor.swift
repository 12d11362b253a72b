import OsmanthusBSON

/// The results of `Collection.aggregate`, produced lazily: streaming stages run as documents
/// are pulled, blocking stages on the first pull. Use from one thread at a time.
public final class AggregationCursor {
    private let stream: DocumentStream
    /// What `explain` shows: the pushed-down find and the stages after it.
    public let explain: Document
    public private(set) var isExhausted = false

    init(stream: DocumentStream, explain: Document) {
        self.stream = stream
        self.explain = explain
    }

    /// The next result, or nil at the end.
    public func next() throws -> Document? {
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
        while batch.count < max, let document = try next() { batch.append(document) }
        return batch
    }

    /// Every remaining result.
    public func all() throws -> [Document] {
        var documents = [Document]()
        while let document = try next() { documents.append(document) }
        return documents
    }
}
