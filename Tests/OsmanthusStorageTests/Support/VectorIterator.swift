@testable import OsmanthusStorage

/// An `InternalIterator` over an array of entries already sorted by `InternalKey.compare`.
final class VectorIterator: InternalIterator {
    private let entries: [(key: [UInt8], value: [UInt8])]
    private var index: Int
    let error: StorageError?

    init(_ entries: [(key: [UInt8], value: [UInt8])], error: StorageError? = nil) {
        self.entries = entries
        self.error = error
        index = entries.count
    }

    var isValid: Bool { index >= 0 && index < entries.count }
    var key: [UInt8] {
        precondition(isValid)
        return entries[index].key
    }
    var value: [UInt8] {
        precondition(isValid)
        return entries[index].value
    }

    func seekToFirst() { index = 0 }
    func seekToLast() { index = entries.isEmpty ? 0 : entries.count - 1 }
    func seek(_ target: [UInt8]) {
        // Binary search for the first entry ≥ target.
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if InternalKey.compare(entries[mid].key, target) < 0 { low = mid + 1 } else { high = mid }
        }
        index = low
    }
    func next() {
        precondition(isValid)
        index += 1
    }
    func prev() {
        precondition(isValid)
        index = index == 0 ? entries.count : index - 1
    }
}
