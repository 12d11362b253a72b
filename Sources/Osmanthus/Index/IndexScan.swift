import Glibc
import OsmanthusBSON
import OsmanthusStorage

/// Walks an index plan's key intervals on one read view and yields the documents they point to
/// (or, covered, documents rebuilt from the entries), each primary key once. The entries and
/// the documents are read from the same view (`ReadView`: the engine's state acquired once per
/// query, not once per document).
///
/// Used from one thread at a time (a cursor's, a count's): its fields skip the run-time
/// exclusivity checks (`@exclusivity(unchecked)`), a thread-local lookup per access per entry.
final class IndexScan {
    private let plan: IndexPlan
    private let view: ReadView
    private let documentPrefix: [UInt8]
    /// A `var` only so `deinit` can check that nothing else holds it before handing it back.
    @exclusivity(unchecked) private var iterator: DBIterator
    @exclusivity(unchecked) private var interval = -1
    @exclusivity(unchecked) private var seen = Set<[UInt8]>()
    @exclusivity(unchecked) private(set) var keysExamined = 0
    @exclusivity(unchecked) private(set) var docsExamined = 0
    /// `next` examines no key past this many (it then returns nil before the end): trial
    /// planning works a scan one key at a time (`TrialPlanner`).
    @exclusivity(unchecked) var keyLimit = Int.max
    /// Whether `next` returns each document's engine key; without it (a cursor, a count) the
    /// document is read through a key built on the stack (no array per entry) and `next`'s key
    /// is empty.
    @exclusivity(unchecked) var returnsKeys = true

    /// Applied to each entry's document unless the plan's bounds are exact and the entry holds
    /// no value that breaks exactness (nil: every entry is returned).
    private let filter: Filter?

    init(plan: IndexPlan, view: ReadView, documentPrefix: [UInt8], filter: Filter?) {
        self.plan = plan
        self.view = view
        self.documentPrefix = documentPrefix
        self.filter = filter
        // Only the tables that may hold the plan's keys are merged (intervals are sorted and
        // disjoint; an empty end is the end of the key space).
        let intervals = plan.bounds.intervals
        iterator = view.makeIterator(lowerBound: intervals.first?.start ?? [], upperBound: intervals.last?.end ?? [])
    }

    deinit {
        // The view's next bounded read (the next query) reuses it instead of building one.
        if isKnownUniquelyReferenced(&iterator) { view.recycle(iterator) }
    }

    /// Results `prime` produced, handed out first.
    @exclusivity(unchecked) private var primed: [([UInt8], Document)] = []
    @exclusivity(unchecked) private var primedNext = 0

    /// The next matching document and its engine key, or nil at the end.
    func next() throws -> ([UInt8], Document)? {
        if primedNext < primed.count {
            defer { primedNext += 1 }
            return primed[primedNext]
        }
        return try produce()
    }

    /// Works a cached plan's scan as its trial would (SPEC.md §11.6): until `target` results
    /// or its end, within `budget` keys. What it yields is kept for `next`. False when the
    /// budget ran out first: the plan does far worse than when it was cached.
    func prime(target: Int, budget: Int) throws -> Bool {
        keyLimit = budget
        defer { keyLimit = Int.max }
        while primed.count < target {
            guard let result = try produce() else {
                // nil before the limit is the end; at the limit, the end only if no entry is left.
                if keysExamined < budget { return true }
                return try !advanceToEntry()
            }
            primed.append(result)
        }
        return true
    }

    /// Entries `primeCount` counted, added to `count`'s answer.
    @exclusivity(unchecked) private var primedCount = 0

    /// `prime` for a count whose bounds are exact (`countsKeys`): works the scan by counting
    /// entries as `count` does (no document built), until `target` counted or its end, within
    /// `budget` keys; false when the budget ran out first.
    func primeCount(target: Int, budget: Int) throws -> Bool {
        precondition(countsKeys, "primeCount needs exact bounds on an index that is not multikey")
        while primedCount < target {
            guard keysExamined < budget else { return try !advanceToEntry() }
            guard try advanceToEntry() else { return true }
            if try countOne() { primedCount += 1 }
        }
        return true
    }

    /// A count can be answered from the keys: the bounds hold exactly the matches.
    var countsKeys: Bool { plan.exact && !plan.spec.multikey }

    private func produce() throws -> ([UInt8], Document)? {
        while keysExamined < keyLimit {
            guard try advanceToEntry() else { return nil }
            keysExamined += 1
            let exact = plan.exact
            if !plan.covered && !returnsKeys && !plan.spec.multikey {
                // The document is read while the entry is lent: its key is built on the stack.
                docsExamined += 1
                let found = try iterator.withValue { v -> (Document?, Bool) in
                    // `get(bytes:)`, not a generic read: specialized in the engine's module.
                    let doc = try Self.withDocumentKey(documentPrefix, v) { key in
                        try view.get(bytes: key).map { try Document(trustedBytes: $0) }
                    }
                    return (doc, exact && ExactBounds.entryIsExact(v))
                }
                if plan.backward { iterator.prev() } else { iterator.next() }
                guard let doc = found.0 else { continue }
                if !found.1, let filter, !filter.matches(doc) { continue }
                return ([], doc)
            }
            // The document key is built from the entry's bytes in place (no copy of the value).
            let (key, clean) = iterator.withValue { v -> ([UInt8], Bool) in
                (Self.documentKey(documentPrefix, v), exact && ExactBounds.entryIsExact(v))
            }
            let value = plan.covered ? iterator.value : []
            if plan.backward { iterator.prev() } else { iterator.next() }
            if plan.spec.multikey, !seen.insert(key).inserted { continue }
            let doc: Document
            if plan.covered {
                doc = try IndexKeys.coveredDocument(fromValue: value, spec: plan.spec)
            } else {
                docsExamined += 1
                guard let raw = try view.get(key) else { continue }
                // Our own stored bytes: framing checked only.
                doc = try Document(trustedBytes: raw)
            }
            if !clean, let filter, !filter.matches(doc) { continue }
            return (key, doc)
        }
        return nil
    }

    /// The number of matching entries; with exact bounds the entries are counted from the index
    /// alone (no document, no decoded value) except those holding a Decimal128 or NaN.
    func count() throws -> Int {
        var n = primed.count - primedNext + primedCount
        primedNext = primed.count
        primedCount = 0
        guard countsKeys else {
            while try next() != nil { n += 1 }
            return n
        }
        while try advanceToEntry() {
            if try countOne() { n += 1 }
        }
        return n
    }

    /// Examines the entry under the iterator (there is one) for a count with exact bounds,
    /// advancing: whether it matches.
    private func countOne() throws -> Bool {
        keysExamined += 1
        if iterator.withValue({ ExactBounds.entryIsExact($0) }) {
            if plan.backward { iterator.prev() } else { iterator.next() }
            return true
        }
        // An entry the keys cannot decide: read it and apply the filter.
        return try nextOne()
    }

    /// Reads the entry under the iterator (one step of `next` without exactness), advancing.
    private func nextOne() throws -> Bool {
        let key = iterator.withValue { Self.documentKey(documentPrefix, $0) }
        let value = plan.covered ? iterator.value : []
        if plan.backward { iterator.prev() } else { iterator.next() }
        let doc: Document
        if plan.covered {
            doc = try IndexKeys.coveredDocument(fromValue: value, spec: plan.spec)
        } else {
            docsExamined += 1
            guard let raw = try view.get(key) else { return false }
            doc = try Document(trustedBytes: raw)
        }
        return filter.map { $0.matches(doc) } ?? true
    }

    /// Moves to the next interval while the iterator is outside the current one; false at the end.
    private func advanceToEntry() throws -> Bool {
        let intervals = plan.bounds.intervals
        // Past the last interval: still the end (asked again after `prime` reached it).
        if interval >= intervals.count { return false }
        while interval < 0 || !inCurrent() {
            if let e = iterator.error { throw OsmanthusError.wrapping(e) }
            interval += 1
            guard interval < intervals.count else { return false }
            position()
        }
        return true
    }

    /// `documentPrefix ‖ pk`, with pk read from an entry's value (`u32be(len) ‖ pk ‖ …`).
    private static func documentKey(_ prefix: [UInt8], _ v: UnsafeRawBufferPointer) -> [UInt8] {
        guard v.count >= 4 else { return prefix }
        let n = Int(v[0]) << 24 | Int(v[1]) << 16 | Int(v[2]) << 8 | Int(v[3])
        let end = min(v.count, 4 + n)
        var key = [UInt8]()
        key.reserveCapacity(prefix.count + end - 4)
        key.append(contentsOf: prefix)
        key.append(contentsOf: UnsafeRawBufferPointer(rebasing: v[4..<end]))
        return key
    }

    /// Calls `body` with `documentPrefix ‖ pk` (pk read from an entry's value as in
    /// `documentKey`) in stack memory, lent only for the call.
    private static func withDocumentKey<R>(
        _ prefix: [UInt8], _ v: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R {
        let n = v.count >= 4 ? Int(v[0]) << 24 | Int(v[1]) << 16 | Int(v[2]) << 8 | Int(v[3]) : 0
        let pk = v.count >= 4 ? UnsafeRawBufferPointer(rebasing: v[4..<min(v.count, 4 + n)]) : UnsafeRawBufferPointer(start: nil, count: 0)
        let count = prefix.count + pk.count
        return try withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { buffer in
            prefix.withUnsafeBytes { p in buffer.copyMemory(from: p) }
            if let source = pk.baseAddress, let target = buffer.baseAddress {
                (target + prefix.count).copyMemory(from: source, byteCount: pk.count)
            }
            return try body(UnsafeRawBufferPointer(buffer))
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

/// Running a plan the plan cache handed back (SPEC.md §11.6): a cached trial winner is first
/// worked as its trial was, within `PlanCache.evictionRatio` times the works it took then; if it
/// does not finish its trial within that, it does far worse for these values than for the ones
/// it was chosen with, so its entry is evicted and the query planned afresh (MongoDB's
/// replanning). The results of the check are kept, not read twice.
extension Collection {
    /// The index scan to run `plan` with (nil for a primary-key plan), after the check above;
    /// `plan` becomes the re-planned plan when the check fails. `target`: the results a trial
    /// would want (nil: the plan's order is not the query's, so it must reach its end);
    /// `replan` plans the query again.
    /// `forCount`: the scan will only be counted, so with exact bounds the check counts keys
    /// (`primeCount`) instead of building documents.
    func indexScan(_ plan: inout QueryPlan, filter: Filter, entry: CatalogEntry, view: ReadView, target: Int?,
                   forCount: Bool = false, replan: () throws -> QueryPlan) throws -> IndexScan? {
        guard case .index(let p) = plan.kind else { return nil }
        let scan = IndexScan(plan: p, view: view, documentPrefix: entry.documentPrefix, filter: filter)
        // Cursors and counts use the documents only.
        scan.returnsKeys = false
        guard let check = plan.cacheCheck else { return scan }
        let (product, overflow) = check.works.multipliedReportingOverflow(by: PlanCache.evictionRatio)
        let budget = overflow ? Int.max : max(1, product)
        let passed = forCount && scan.countsKeys
            ? try scan.primeCount(target: target ?? Int.max, budget: budget)
            : try scan.prime(target: target ?? Int.max, budget: budget)
        if passed { return scan }
        database.planCache.evict(collection: entry.id, shape: check.shape)
        plan = try replan()
        guard case .index(let fresh) = plan.kind else { return nil }
        let freshScan = IndexScan(plan: fresh, view: view, documentPrefix: entry.documentPrefix, filter: filter)
        freshScan.returnsKeys = false
        return freshScan
    }

    /// The results a trial of a query with this sort, skip and limit would stop at: nil when
    /// `plan` gives no order the query needs (a blocking sort sees results only at the end).
    static func trialTarget(_ plan: QueryPlan, sorted: Bool, skip: Int, limit: Int) -> Int? {
        if sorted && !plan.providesSort { return nil }
        let (needed, overflow) = skip.addingReportingOverflow(limit)
        return limit > 0 && !overflow ? min(needed, TrialPlanner.resultTarget) : TrialPlanner.resultTarget
    }
}
