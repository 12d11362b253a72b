/// Iterates the tables of one sorted level (L1+) as one sequence, opening each table only when
/// the cursor reaches it.
final class LevelIterator: InternalIterator {
    private let files: [FileMetadata]
    private let tables: TableCache
    private let fillCache: Bool
    @exclusivity(unchecked) private var index = 0
    /// Concrete, so moves through it are direct calls.
    @exclusivity(unchecked) private var current: TableIterator?
    private(set) var error: StorageError?

    init(files: [FileMetadata], tables: TableCache, fillCache: Bool) {
        self.files = files
        self.tables = tables
        self.fillCache = fillCache
    }

    var isValid: Bool { current?.isValid ?? false }
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
        index = i
        guard i >= 0 && i < files.count else {
            current = nil
            return
        }
        do {
            current = try tables.table(files[i].number).makeTableIterator(fillCache: fillCache)
        } catch let e as StorageError {
            error = error ?? e
            current = nil
        } catch {
            self.error = self.error ?? StorageError(.io, "\(error)")
            current = nil
        }
    }

    private func noteError() {
        if let e = current?.error, error == nil { error = e }
    }

    func seekToFirst() {
        open(0)
        current?.seekToFirst()
        skipEmptyForward()
    }

    func seekToLast() {
        open(files.count - 1)
        current?.seekToLast()
        skipEmptyBackward()
    }

    func seek(_ target: [UInt8]) {
        // The first table whose largest key is ≥ target, compared in place (no per-step memcmp call).
        let lo = target.withUnsafeBytes { t in
            var lo = 0
            var hi = files.count
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
            if error != nil || index + 1 >= files.count {
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
            if error != nil || index == 0 {
                current = nil
                return
            }
            open(index - 1)
            current?.seekToLast()
        }
    }
}
