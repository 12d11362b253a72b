import OsmanthusBSON
import OsmanthusStorage

/// A `Cursor`'s primary-key scan: documents in key order from an engine iterator while keys
/// start with `prefix` and are below `end` (empty: no end). The iterator pins what it reads
/// (its read view's version and memtables) until `close`.
///
/// Documents are read ahead in batches into one buffer, and each one handed out is a view into
/// it (`Document(trustedBytes:start:)`): one allocation per batch instead of one per document,
/// whose malloc and free were about a third of a scan's cost per 1 KB document. A batch holds
/// at most `wanted` documents, what the cursor may still return, so a limit is never read past,
/// and at most `batchBytes` bytes (a document kept alive keeps its whole batch alive; a larger
/// document is a batch of its own).
///
/// The iterator stays on the last document copied and steps on only when more are asked for, so
/// a limited scan never moves past its last result. One thread at a time, as its cursor.
final class ScanSource {
    static let batchBytes = 32 << 10

    @exclusivity(unchecked) private var iterator: DBIterator?
    private let prefix: [UInt8]
    private let end: [UInt8]
    @exclusivity(unchecked) private var stepPending = false
    /// The current batch and where each of its documents starts; `taken` of them handed out.
    @exclusivity(unchecked) private var buffer: [UInt8] = []
    @exclusivity(unchecked) private var starts: [Int] = []
    @exclusivity(unchecked) private var taken = 0

    init(iterator: DBIterator, prefix: [UInt8], end: [UInt8]) {
        self.iterator = iterator
        self.prefix = prefix
        self.end = end
    }

    /// The next document in the range, or nil at its end. `wanted` (≥ 1): how many more the
    /// caller may use at most.
    func next(wanted: Int) throws -> Document? {
        if taken == starts.count {
            try refill(wanted: wanted)
            if starts.isEmpty { return nil }
        }
        let start = starts[taken]
        taken += 1
        do { return try Document(trustedBytes: buffer, start: start) } catch {
            throw OsmanthusError(.internalError, "stored document does not decode: \(error)")
        }
    }

    /// Drops the iterator (unpinning its view) and the batch; documents handed out keep theirs.
    func close() {
        iterator = nil
        buffer = []
        starts = []
        taken = 0
    }

    /// Reads the next batch; an empty one at the end. Damage met after some documents were
    /// read is thrown by the refill after them, once they have been handed out.
    private func refill(wanted: Int) throws {
        taken = 0
        starts.removeAll(keepingCapacity: true)
        guard let it = iterator else { return }
        if stepPending {
            it.next()
            stepPending = false
        }
        guard isOnDocument(it) else {
            if let e = it.error { throw OsmanthusError.wrapping(e) }
            return
        }
        // Room for as many documents of the first one's size as may be wanted, within
        // `batchBytes`, and always for the first. A fresh buffer each time: documents handed
        // out from the last one still share it.
        let first = it.withValue { $0.count }
        let room = Swift.max(1, Self.batchBytes / Swift.max(first, 1))
        let capacity = first * Swift.min(Swift.max(wanted, 1), room)
        var malformed = false
        buffer = [UInt8](unsafeUninitializedCapacity: capacity) { memory, filled in
            filled = 0
            while true {
                let copied = it.withValue { value -> Bool in
                    guard value.count <= memory.count - filled else { return false }
                    // Our own stored bytes: framing checked only (as `Document(trustedBytes:)`).
                    guard Self.isFramed(value), let source = value.baseAddress, let target = memory.baseAddress else {
                        malformed = true
                        return false
                    }
                    UnsafeMutableRawPointer(target + filled).copyMemory(from: source, byteCount: value.count)
                    starts.append(filled)
                    filled += value.count
                    return true
                }
                guard copied else { return }
                // Stay on the last document until more are asked for.
                if starts.count >= wanted {
                    stepPending = true
                    return
                }
                it.next()
                guard isOnDocument(it) else { return }
            }
        }
        if malformed { throw OsmanthusError(.internalError, "stored document does not decode: bad framing") }
    }

    /// Whether the iterator is on a key in the range. The bounds are checked on the iterator's
    /// own key bytes (no copy of the key).
    @inline(__always)
    private func isOnDocument(_ it: DBIterator) -> Bool {
        it.isValid && it.withKey { Cursor.isWithin($0, prefix: prefix, end: end) }
    }

    /// At least 5 bytes, the declared length equal to the count, a 0x00 terminator.
    @inline(__always)
    private static func isFramed(_ value: UnsafeRawBufferPointer) -> Bool {
        guard value.count >= 5 else { return false }
        let declared = Int(Int32(littleEndian: value.loadUnaligned(as: Int32.self)))
        return declared == value.count && value[value.count - 1] == 0
    }
}
