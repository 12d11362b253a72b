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
    /// The table iterator the cursor is on; nil when it is off the level. Concrete, so moves
    /// through it are direct calls, and unmanaged, so they cost no retain and release: `spare`
    /// holds it whenever it is set.
    @exclusivity(unchecked) private var current: Unmanaged<TableIterator>?
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

    var isValid: Bool { withCurrent { $0.isValid } ?? false }

    /// `body` on the current table iterator, without retaining it; nil when there is none.
    @inline(__always)
    private func withCurrent<R>(_ body: (TableIterator) throws -> R) rethrows -> R? {
        guard let current else { return nil }
        return try current._withUnsafeGuaranteedRef(body)
    }

    /// Covers `range` of the level's tables from now on, unpositioned; the table iterator is
    /// kept for the next table (a reused iterator allocates nothing).
    func reset(range: Range<Int>) {
        current = nil
        index = -1
        first = range.lowerBound
        end = range.upperBound
    }
    var key: [UInt8] { withCurrent { $0.key } ?? [] }
    var value: [UInt8] { withCurrent { $0.value } ?? [] }

    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let current else { preconditionFailure("key read from an invalid level iterator") }
        return try current._withUnsafeGuaranteedRef { try $0.withKey(body) }
    }

    func withValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let current else { preconditionFailure("value read from an invalid level iterator") }
        return try current._withUnsafeGuaranteedRef { try $0.withValue(body) }
    }

    /// The current key and value bytes, lent until the iterator moves (see `BlockIterator`).
    var keyBytes: UnsafeRawBufferPointer {
        guard let current else { preconditionFailure("key read from an invalid level iterator") }
        return current._withUnsafeGuaranteedRef { $0.keyBytes }
    }

    var valueBytes: UnsafeRawBufferPointer {
        guard let current else { preconditionFailure("value read from an invalid level iterator") }
        return current._withUnsafeGuaranteedRef { $0.valueBytes }
    }

    private func open(_ i: Int) {
        // The same table again (a seek near the last one): keep its iterator and current block.
        if i == index, current != nil { return }
        current = nil
        index = i
        guard i >= first && i < end else { return }
        do {
            let table = try version.openTable(level: level, i, tables: tables)
            if let reused = spare {
                reused.retarget(table)
                current = .passUnretained(reused)
            } else {
                let made = table.makeTableIterator(fillCache: fillCache)
                spare = made
                current = .passUnretained(made)
            }
        } catch let e as StorageError {
            error = error ?? e
        } catch {
            self.error = self.error ?? StorageError(.io, "\(error)")
        }
    }

    private func noteError() {
        if let e = withCurrent({ $0.error }) ?? nil, error == nil { error = e }
    }

    func seekToFirst() {
        open(first)
        withCurrent { $0.seekToFirst() }
        skipEmptyForward()
    }

    func seekToLast() {
        open(end - 1)
        withCurrent { $0.seekToLast() }
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
        withCurrent { $0.seek(target) }
        skipEmptyForward()
    }

    func next() {
        withCurrent { $0.next() }
        skipEmptyForward()
    }

    func prev() {
        withCurrent { $0.prev() }
        skipEmptyBackward()
    }

    private func skipEmptyForward() {
        while let valid = withCurrent({ $0.isValid }), !valid {
            noteError()
            if error != nil || index + 1 >= end {
                current = nil
                return
            }
            open(index + 1)
            withCurrent { $0.seekToFirst() }
        }
    }

    private func skipEmptyBackward() {
        while let valid = withCurrent({ $0.isValid }), !valid {
            noteError()
            if error != nil || index <= first {
                current = nil
                return
            }
            open(index - 1)
            withCurrent { $0.seekToLast() }
        }
    }
}
