import OsmanthusBSON

/// A pull-based source of documents: each pipeline stage wraps the stream of the stage before
/// it, so streaming stages (`$match`, `$project`, `$unwind`, `$limit`...) never materialize
/// their input.
final class DocumentStream {
    private let pull: () throws -> Document?
    private var finished = false

    init(_ pull: @escaping () throws -> Document?) {
        self.pull = pull
    }

    convenience init(_ documents: [Document]) {
        var index = 0
        self.init {
            guard index < documents.count else { return nil }
            defer { index += 1 }
            return documents[index]
        }
    }

    convenience init(_ cursor: Cursor) {
        self.init { try cursor.next() }
    }

    static var empty: DocumentStream { DocumentStream { nil } }

    func next() throws -> Document? {
        guard !finished else { return nil }
        guard let document = try pull() else {
            finished = true
            return nil
        }
        return document
    }
}
