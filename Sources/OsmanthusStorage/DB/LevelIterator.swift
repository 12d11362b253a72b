/// Iterates the tables of one sorted level (L1+) as one sequence, opening each table only when
/// the cursor reaches it.
///
/// Reads `version.levels[level][range]`. Tables come from the version's slots (no table-cache
/// lookup after the first), and one `TableIterator` is re-targeted from table to table, so a
/// seek that lands in another table allocates nothing.
final class LevelIterator: InternalIterator {
    private let version: Version
    let level: Int
    private let files: [FileMetadata]
    /// Indices into `files` this iterator covers (`reset(range:)` changes them).
    @exclusivity(unchecked) private var first: Int
    @exclusivity(unchecked) private var end: Int
    private let tables: TableCache
    private let fillCache: Bool
    /// Index into `files` of the table `current` reads (meaningful while `current` is set).
    @exclusivity(unchecked) private var index = -1
    /// Concrete, so moves through it are direct calls; nil when the cursor is off the level.
    @exclusivity(unchecked) private var current: TableIterator?
    /// The one table iterator, kept while `current` is nil for the next table.
    @exclusivity(unchecked) private var spare: TableIterator?
    private(set) var error: StorageError?

    init(version: Version, level: Int, range: Range<Int>, tables: TableCache, fillCache: Bool) {
        self.version = version
        self.level = level
        files = version.levels[level]
        first = range.lowerBound
        end = range.upperBound
        self.tables = tables
        self.fillCache = fillCache
    }

    var isValid: Bool { current?.isValid ?? false }

    /// Covers `range` of the level's tables from now on, unpositioned; the table iterator is
    /// kept for the next table (a reused iterator allocates nothing).
    func reset(range: Range<Int>) {
        if let c = current { spare = c }
        current = nil
        index = -1
        first = range.lowerBound
        end = range.upperBound
    }
    var key: [UInt8] { current?.key ?? [] }
    var value: [UInt8] { current?.value ?? [] }

    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let current else { preconditionFailure("key read from an invalid level iterator") }
        return try current.withKey(body)
    }

    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let current else { preconditionFailure("value read from an invalid level iterator") }
        return try current.withValue(body)
    }

    /// The current key and value bytes, lent until the iterator moves (see `BlockIterator`).
    var keyBytes: UnsafeRawBufferPointer {
        guard let current else { preconditionFailure("key read from an invalid level iterator") }
        return current.keyBytes
    }

    var valueBytes: UnsafeRawBufferPointer {
        guard let current else { preconditionFailure("value read from an invalid level iterator") }
        return current.valueBytes
    }

    private func open(_ i: Int) {
        // The same table again (a seek near the last one): keep its iterator and current block.
        if i == index, current != nil { return }
        if let c = current { spare = c }
        current = nil
        index = i
        guard i >= first && i < end else { return }
        do {
            let table = try version.openTable(level: level, i, tables: tables)
            if let reused = spare {
                reused.retarget(table)
                current = reused
            } else {
                let made = table.makeTableIterator(fillCache: fillCache)
                spare = made
                current = made
            }
        } catch let e as StorageError {
            error = error ?? e
        } catch {
            self.error = self.error ?? StorageError(.io, "\(error)")
        }
    }

    private func noteError() {
        if let e = current?.error, error == nil { error = e }
    }

    func seekToFirst() {
        open(first)
        current?.seekToFirst()
        skipEmptyForward()
    }

    func seekToLast() {
        open(end - 1)
        current?.seekToLast()
        skipEmptyBackward()
    }

    func seek(_ target: [UInt8]) {
        // The first table whose largest key is ≥ target, compared in place (no per-step memcmp call).
        let lo = target.withUnsafeBytes { t in
            var lo = first
            var hi = end
            while lo < hi {
                let mid = (lo &+ hi) >> 1
                let order = files[mid].largest.withUnsafeBytes { MergingIterator.compare($0, t) }
                if order < 0 { lo = mid &+ 1 } else { hi = mid }
            }
            return lo
        }
        open(lo)
        current?.seek(target)
        skipEmptyForward()
    }

    func next() {
        current?.next()
        skipEmptyForward()
    }

    func prev() {
        current?.prev()
        skipEmptyBackward()
    }

    private func skipEmptyForward() {
        while let c = current, !c.isValid {
            noteError()
            if error != nil || index + 1 >= end {
                current = nil
                return
            }
            open(index + 1)
            current?.seekToFirst()
        }
    }

    private func skipEmptyBackward() {
        while let c = current, !c.isValid {
            noteError()
            if error != nil || index <= first {
                current = nil
                return
            }
            open(index - 1)
            current?.seekToLast()
        }
    }
}
