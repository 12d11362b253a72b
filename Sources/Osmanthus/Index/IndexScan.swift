import Glibc
import OsmanthusBSON
import OsmanthusStorage

/// Walks an index plan's key intervals on one snapshot and yields the documents they point to
/// (or, covered, documents rebuilt from the entries), each primary key once.
final class IndexScan {
    private let plan: IndexPlan
    private let storage: DB
    private let documentPrefix: [UInt8]
    let snapshot: Snapshot
    private let readOptions: ReadOptions
    private let iterator: DBIterator
    private var interval = -1
    private var seen = Set<[UInt8]>()
    private(set) var keysExamined = 0
    private(set) var docsExamined = 0

    init(plan: IndexPlan, storage: DB, documentPrefix: [UInt8], snapshot: Snapshot) {
        self.plan = plan
        self.storage = storage
        self.documentPrefix = documentPrefix
        self.snapshot = snapshot
        readOptions = ReadOptions(snapshot: snapshot)
        iterator = storage.makeIterator(options: readOptions)
    }

    /// The next document and its engine key, or nil at the end.
    func next() throws -> ([UInt8], Document)? {
        let intervals = plan.bounds.intervals
        while true {
            if interval < 0 || !inCurrent() {
                if let e = iterator.error { throw OsmanthusError.wrapping(e) }
                interval += 1
                guard interval < intervals.count else { return nil }
                position()
                continue
            }
            keysExamined += 1
            let value = iterator.value
            if plan.backward { iterator.prev() } else { iterator.next() }
            let pk = IndexKeys.primaryKey(fromValue: value)
            let key = documentPrefix + pk
            if plan.spec.multikey, !seen.insert(key).inserted { continue }
            if plan.covered { return (key, try IndexKeys.coveredDocument(fromValue: value, spec: plan.spec)) }
            docsExamined += 1
            guard let raw = try storage.get(key, options: readOptions) else { continue }
            return (key, try Document(bytes: raw))
        }
    }

    private var current: (start: [UInt8], end: [UInt8]) {
        let iv = plan.bounds.intervals
        return plan.backward ? iv[iv.count - 1 - interval] : iv[interval]
    }

    private func position() {
        let (start, end) = current
        if plan.backward {
            if end.isEmpty { iterator.seekToLast() } else {
                iterator.seekForPrev(end)
                if iterator.isValid, iterator.key == end { iterator.prev() }
            }
            _ = start
        } else {
            iterator.seek(start)
        }
    }

    private func inCurrent() -> Bool {
        guard iterator.isValid else { return false }
        let (start, end) = current
        // Compared in place: no copy of the key per entry.
        if plan.backward { return iterator.withKey { Self.compare($0, start) } >= 0 }
        return end.isEmpty || iterator.withKey { Self.compare($0, end) } < 0
    }

    private static func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
        b.withUnsafeBytes { b in
            let n = min(a.count, b.count)
            if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
                let c = memcmp(pa, pb, n)
                if c != 0 { return c < 0 ? -1 : 1 }
            }
            return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
        }
    }
}
