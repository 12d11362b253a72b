import OsmanthusBSON
import Synchronization

/// The index chosen for each query shape, per collection (SPEC.md §11.6), so a query of a known
/// shape skips building and scoring every candidate and the trial: the planner builds the cached
/// index's plan with the query's values bound in (`QueryPlanner.plan`).
///
/// A shape is the filter with its values reduced to their types (paths and operators kept), plus
/// the sort and the projection (`shape`). Each collection's entries carry the ids of the
/// ready indexes they were chosen among: creating or dropping an index changes that set (index
/// ids are never reused), and the collection's entries are dropped on the next lookup. A cached
/// index that cannot answer the query's values (a partial index the values do not imply) is
/// ignored and the query is planned afresh.
///
/// An entry chosen by a trial keeps the winner's works; a query answered from it is checked
/// (`IndexScan.prime`): past `evictionRatio` times those works without finishing its trial, the
/// entry is evicted and the query re-planned (MongoDB's replanning).
final class PlanCache: Sendable {
    struct Key: Hashable {
        var collection: UInt32
        var shape: [UInt8]

        /// The shape's bytes hashed in one call (an array of bytes hashes element by element).
        func hash(into hasher: inout Hasher) {
            hasher.combine(collection)
            hasher.combine(shape.count)
            shape.withUnsafeBytes { hasher.combine(bytes: $0) }
        }

        static func == (a: Key, b: Key) -> Bool {
            a.collection == b.collection && a.shape == b.shape
        }
    }

    struct Entry: Equatable {
        /// The chosen index's name.
        var index: String
        /// The winner's works in the trial that chose it; nil when the rules chose it alone.
        var works: Int?
        /// What the shape alone decides about the chosen index's plan, kept so a query of this
        /// shape only builds its bounds; nil when the query's values also decide it.
        var derived: Derived?
    }

    /// The parts of an index plan that depend on the query's shape and the index, not on its
    /// values (`QueryPlanner.valueIndependent`): kept with an entry and used while the index's
    /// multikey flag is still `multikey` (it decides exactness, bounds and sort order).
    struct Derived: Equatable {
        var multikey: Bool
        var covered: Bool
        var providesSort: Bool
        var backward: Bool
        var exact: Bool
    }

    private struct State {
        /// Per collection: the ready index ids the entries were chosen among.
        var indexSets: [UInt32: [UInt32]] = [:]
        var entries: [Key: Entry] = [:]
        var replans = 0
        var hits = 0
    }

    /// Bounds memory with many shapes: past it the whole cache starts over.
    static let capacity = 5000
    /// A cached trial winner that needs more than this many times its trial's works is re-planned.
    static let evictionRatio = 10

    /// Guards every entry (lookups and stores are short, no I/O under it).
    private let state = Mutex(State())

    /// The cached entry of `shape`, if the collection's ready indexes are still `indexes`.
    func entry(collection: UInt32, shape: [UInt8], indexes: [IndexSpec]) -> Entry? {
        state.withLock { s in
            guard let known = s.indexSets[collection] else { return nil }
            if !known.elementsEqual(indexes.lazy.map(\.id)) {
                s.indexSets[collection] = nil
                s.entries = s.entries.filter { $0.key.collection != collection }
                return nil
            }
            let found = s.entries[Key(collection: collection, shape: shape)]
            if found != nil { s.hits += 1 }
            return found
        }
    }

    func store(collection: UInt32, shape: [UInt8], indexes: [IndexSpec], entry: Entry) {
        state.withLock { s in
            if s.entries.count >= Self.capacity { s = State(replans: s.replans, hits: s.hits) }
            if !(s.indexSets[collection]?.elementsEqual(indexes.lazy.map(\.id)) ?? false) {
                s.entries = s.entries.filter { $0.key.collection != collection }
                s.indexSets[collection] = indexes.map(\.id)
            }
            s.entries[Key(collection: collection, shape: shape)] = entry
        }
    }

    /// Drops one shape's entry because its plan did far worse than when it was cached.
    func evict(collection: UInt32, shape: [UInt8]) {
        state.withLock { s in
            s.entries[Key(collection: collection, shape: shape)] = nil
            s.replans += 1
        }
    }

    /// Entries of one collection (for tests and diagnostics).
    func count(collection: UInt32) -> Int {
        state.withLock { s in s.entries.keys.filter { $0.collection == collection }.count }
    }

    /// How many cached plans were evicted for doing far worse than when cached (diagnostics).
    var replans: Int { state.withLock { $0.replans } }

    /// How many lookups found an entry (diagnostics).
    var hits: Int { state.withLock { $0.hits } }

    /// Forgets a collection's entries (`planCacheClear`).
    func clear(collection: UInt32) {
        state.withLock { s in
            s.entries = s.entries.filter { $0.key.collection != collection }
            s.indexSets[collection] = nil
        }
    }

    /// The shape of a query: the filter's raw BSON with each value reduced to its type byte
    /// (documents and arrays of documents walked: operators, `$and`/`$or` clauses; other arrays
    /// only typed), then the sort's paths and directions and the projection's bytes. The filter
    /// is read in place, with no decoding.
    static func shape(_ filter: Document, sort: SortSpec?, projection: Document?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        filter.withUnsafeBytes { describe($0, into: &out) }
        out.append(0xFE)
        for key in sort?.keys ?? [] {
            for component in key.path {
                out.append(contentsOf: component.utf8)
                out.append(0)
            }
            out.append(key.ascending ? 0x2B : 0x2D)  // "+" / "-"
        }
        out.append(0xFE)
        if let projection { projection.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// Appends the shape of one BSON document (`int32 length ‖ elements ‖ 00`). Malformed bytes
    /// end the walk (the filter parser has already accepted them; the shape only keys a cache).
    private static func describe(_ d: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var i = 4
        let end = d.count - 1
        out.append(0x7B)  // "{"
        while i < end {
            let type = d[i]
            let nameStart = i + 1
            var j = nameStart
            while j < end, d[j] != 0 { j += 1 }
            out.append(type)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[nameStart..<j]))
            out.append(0)
            i = j + 1
            guard let size = valueSize(type, d, at: i), size >= 0, i + size <= d.count else { break }
            switch type {
            case 0x03:
                describe(UnsafeRawBufferPointer(rebasing: d[i..<(i + size)]), into: &out)
            case 0x04:
                let items = UnsafeRawBufferPointer(rebasing: d[i..<(i + size)])
                if containsDocument(items) { describe(items, into: &out) }
            case 0x01:
                // NaN is not a point or range value for an index: its own shape.
                if i + 8 <= d.count, Double(bitPattern: UInt64(littleEndianBytes: d, at: i)).isNaN { out.append(0x4E) }
            default: break
            }
            i += size
        }
        out.append(0x7D)  // "}"
    }

    /// Whether a BSON array's elements include an embedded document.
    private static func containsDocument(_ d: UnsafeRawBufferPointer) -> Bool {
        var i = 4
        let end = d.count - 1
        while i < end {
            let type = d[i]
            if type == 0x03 { return true }
            i += 1
            while i < end, d[i] != 0 { i += 1 }
            i += 1
            guard let size = valueSize(type, d, at: i), size >= 0 else { return false }
            i += size
        }
        return false
    }

    /// The size of the value of BSON type `type` at `i`, nil for an unknown type.
    private static func valueSize(_ type: UInt8, _ d: UnsafeRawBufferPointer, at i: Int) -> Int? {
        func int32(_ p: Int) -> Int? {
            guard p + 4 <= d.count else { return nil }
            return Int(Int32(bitPattern: UInt32(d[p]) | UInt32(d[p + 1]) << 8 | UInt32(d[p + 2]) << 16 | UInt32(d[p + 3]) << 24))
        }
        switch type {
        case 0x01, 0x09, 0x11, 0x12: return 8
        case 0x02, 0x0D, 0x0E: return int32(i).map { 4 + $0 }
        case 0x03, 0x04, 0x0F: return int32(i)
        case 0x05: return int32(i).map { 5 + $0 }
        case 0x06, 0x0A, 0x7F, 0xFF: return 0
        case 0x07: return 12
        case 0x08: return 1
        case 0x0B:  // regex: two C strings
            var j = i
            for _ in 0..<2 {
                while j < d.count, d[j] != 0 { j += 1 }
                j += 1
            }
            return j - i
        case 0x0C: return int32(i).map { 4 + $0 + 12 }
        case 0x10: return 4
        case 0x13: return 16
        default: return nil
        }
    }
}

extension UInt64 {
    /// Eight little-endian bytes of `d` at `i` (the caller checks the range).
    fileprivate init(littleEndianBytes d: UnsafeRawBufferPointer, at i: Int) {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(d[i + k]) << (8 * k) }
        self = v
    }
}
