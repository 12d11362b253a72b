import OsmanthusBSON

/// A `Cursor` whose documents are decoded to `T` with `BSONDecoder` as they are read. A
/// document that does not decode ends the iteration with the `DecodingError` (wrapped as
/// `OsmanthusError` `.typeMismatch`). Use from one thread at a time, as `Cursor`.
public final class TypedCursor<T: Decodable>: @unchecked Sendable {
    // Not synchronised: like `Cursor`, one consumer at a time (the cursor it wraps says so).
    public let cursor: Cursor
    private let decoder: BSONDecoder

    init(cursor: Cursor, decoder: BSONDecoder = BSONDecoder()) {
        self.cursor = cursor
        self.decoder = decoder
    }

    /// The next value, or nil at the end.
    public func next() throws -> T? {
        guard let doc = try cursor.next() else { return nil }
        return try decode(doc)
    }

    /// Every remaining value.
    public func all() throws -> [T] {
        var out: [T] = []
        while let v = try next() { out.append(v) }
        return out
    }

    func decode(_ doc: Document) throws -> T { try Self.decode(doc, decoder: decoder) }

    static func decode(_ doc: Document, decoder: BSONDecoder = BSONDecoder()) throws -> T {
        do { return try decoder.decode(T.self, from: doc) } catch {
            throw OsmanthusError(.typeMismatch, "document does not decode as \(T.self): \(error)", cause: nil)
        }
    }
}

extension TypedCursor: AsyncSequence {
    public typealias Element = T

    public struct AsyncIterator: AsyncIteratorProtocol {
        var documents: Cursor.AsyncIterator
        let owner: TypedCursor

        public mutating func next() async throws -> T? {
            guard let doc = try await documents.next() else { return nil }
            return try owner.decode(doc)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(documents: cursor.makeAsyncIterator(), owner: self)
    }
}

extension Cursor {
    /// This cursor's documents decoded as `T`.
    public func decode<T: Decodable>(as type: T.Type, decoder: BSONDecoder = BSONDecoder()) -> TypedCursor<T> {
        TypedCursor(cursor: self, decoder: decoder)
    }
}
