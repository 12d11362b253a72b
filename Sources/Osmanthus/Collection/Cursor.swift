import Glibc
import OsmanthusBSON
import OsmanthusStorage

/// The results of a query, produced lazily from a consistent snapshot: documents written after
/// the cursor was opened are not seen. Use from one thread at a time.
public final class Cursor: @unchecked Sendable, Sequence {
    // One thread at a time (see above): no runtime exclusivity check on every document (each
    // was a thread-local lookup, two per document).
    @exclusivity(unchecked) private var source: Source
    private let filter: Filter?
    /// The source yields only matching documents (a key range that is exactly the filter):
    /// the filter is kept for projections but not evaluated.
    private let sourceIsExact: Bool
    private let projection: Projection?
    @exclusivity(unchecked) private var toSkip: Int
    @exclusivity(unchecked) private var remaining: Int  // Int.max: unlimited
    @exclusivity(unchecked) private(set) public var isExhausted = false
    @exclusivity(unchecked) private var failure: OsmanthusError?
    /// Where `for try await` reads batches of a scan (nil: on the caller, as `next()` does).
    @exclusivity(unchecked) var pool: BlockingPool?
    /// Called every `interruptInterval` documents read (matching or not); what it throws ends
    /// `next()` with that error. The server's `killOp` stops a long scan through it.
    @exclusivity(unchecked) public var interruptCheck: (() throws -> Void)?
    @exclusivity(unchecked) private var readSinceCheck = 0
    static let interruptInterval = 256

    enum Source {
        /// Documents in key order from a primary-key range (see `ScanSource`).
        case scan(ScanSource)
        /// Documents already in memory (sorted results, point lookups).
        case documents([Document], index: Int)
        /// Documents found through a secondary index.
        case index(IndexScan)

        var filtersItself: Bool {
            if case .index = self { true } else { false }
        }
    }

    init(source: Source, filter: Filter?, projection: Projection?, skip: Int, limit: Int, sourceIsExact: Bool = false) {
        self.source = source
        self.filter = filter
        self.sourceIsExact = sourceIsExact
        self.projection = projection
        self.toSkip = skip
        self.remaining = limit > 0 ? limit : Int.max
    }

    /// The next result, or nil at the end.
    public func next() throws -> Document? {
        if let failure { throw failure }
        while !isExhausted && remaining > 0 {
            guard let doc = try nextRaw() else { break }
            if let interruptCheck {
                readSinceCheck += 1
                if readSinceCheck >= Self.interruptInterval {
                    readSinceCheck = 0
                    try interruptCheck()
                }
            }
            // An index scan applies the filter itself (skipping it where its bounds are exact).
            if let filter, !sourceIsExact, !source.filtersItself, !filter.matches(doc) { continue }
            if toSkip > 0 {
                toSkip -= 1
                continue
            }
            remaining -= 1
            if let projection {
                do { return try projection.apply(to: doc, filter: filter) } catch {
                    failure = OsmanthusError.wrapping(error)
                    throw failure ?? OsmanthusError.wrapping(error)
                }
            }
            return doc
        }
        finish()
        return nil
    }

    /// Up to `max` results.
    public func nextBatch(_ max: Int) throws -> [Document] {
        var batch: [Document] = []
        while batch.count < max, let d = try next() { batch.append(d) }
        return batch
    }

    /// Every remaining result.
    public func all() throws -> [Document] {
        var result: [Document] = []
        while let d = try next() { result.append(d) }
        return result
    }

    private func nextRaw() throws -> Document? {
        switch source {
        case .scan(let scan):
            // At most the documents still to skip and return: a batch never reads past a limit.
            let (wanted, overflow) = Swift.max(toSkip, 0).addingReportingOverflow(remaining)
            return try scan.next(wanted: overflow ? Int.max : wanted)
        case .index(let scan):
            return try scan.next()?.1
        case .documents(let docs, let index):
            guard index < docs.count else { return nil }
            source = .documents(docs, index: index + 1)
            return docs[index]
        }
    }

    /// Whether `key` starts with `prefix` and is below `end` (empty: no end).
    @inline(__always)
    static func isWithin(_ key: UnsafeRawBufferPointer, prefix: [UInt8], end: [UInt8]) -> Bool {
        guard key.count >= prefix.count, let k = key.baseAddress else { return prefix.isEmpty }
        let startsWithPrefix = prefix.withUnsafeBytes { p in
            p.baseAddress.map { memcmp(k, $0, prefix.count) == 0 } ?? true
        }
        guard startsWithPrefix else { return false }
        if end.isEmpty { return true }
        return end.withUnsafeBytes { endBytes in
            let common = Swift.min(key.count, endBytes.count)
            if common > 0, let k = key.baseAddress, let e = endBytes.baseAddress {
                let order = memcmp(k, e, common)
                if order != 0 { return order < 0 }
            }
            return key.count < endBytes.count
        }
    }

    private func finish() {
        isExhausted = true
        // Dropping the source unpins its read view (version, memtables) now, not at deinit.
        switch source {
        case .scan(let scan):
            scan.close()
            source = .documents([], index: 0)
        case .index: source = .documents([], index: 0)
        case .documents: break
        }
    }

    /// Iterating with `for doc in cursor` stops at the first error; use `next()` to see it.
    public func makeIterator() -> AnyIterator<Document> {
        AnyIterator { [self] in try? self.next() }
    }
}

/// `for try await doc in cursor`: a scan is read in batches of `asyncBatchSize` on the
/// database's blocking pool, so the iterating task never blocks on the engine; documents
/// already in memory (sorted results, point reads) are handed out directly.
extension Cursor: AsyncSequence {
    public typealias Element = Document

    static let asyncBatchSize = 64

    var isInMemory: Bool {
        if case .documents = source { true } else { false }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let cursor: Cursor
        var buffer: [Document] = []
        var index = 0

        public mutating func next() async throws -> Document? {
            if index < buffer.count {
                index += 1
                return buffer[index - 1]
            }
            guard let pool = cursor.pool, !cursor.isInMemory, !cursor.isExhausted else { return try cursor.next() }
            let cursor = self.cursor
            buffer = try await pool.run { try cursor.nextBatch(Cursor.asyncBatchSize) }
            index = 0
            guard !buffer.isEmpty else { return nil }
            index = 1
            return buffer[0]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(cursor: self) }
}
