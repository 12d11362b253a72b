import OsmanthusBSON
import Synchronization

/// The winners of trial planning (`TrialPlanner`), per collection and query shape (SPEC.md
/// §11.6), so a query of a known shape skips the trial.
///
/// A shape is the filter with its values replaced by their types (paths and operators kept),
/// plus the sort and the projection's fields. Each collection's entries carry the ids of the
/// ready indexes they were chosen among: creating or dropping an index changes that set (index
/// ids are never reused), and the collection's entries are dropped on the next lookup. A cached
/// index that is not among a query's candidates (a partial index the values do not imply) is
/// ignored and a trial runs.
final class PlanCache: Sendable {
    struct Key: Hashable {
        var collection: UInt32
        var shape: String
    }

    private struct State {
        /// Per collection: the ready index ids the entries were chosen among.
        var indexSets: [UInt32: [UInt32]] = [:]
        var winners: [Key: String] = [:]
    }

    /// Bounds memory with many shapes: past it the whole cache starts over.
    static let capacity = 5000

    /// Guards every entry (lookups and stores are short, no I/O under it).
    private let state = Mutex(State())

    /// The cached winner (an index name) of `shape`, if the collection's indexes are unchanged.
    func winner(collection: UInt32, shape: String, indexIds: [UInt32]) -> String? {
        state.withLock { s in
            guard let known = s.indexSets[collection] else { return nil }
            if known != indexIds {
                s.indexSets[collection] = nil
                s.winners = s.winners.filter { $0.key.collection != collection }
                return nil
            }
            return s.winners[Key(collection: collection, shape: shape)]
        }
    }

    func store(collection: UInt32, shape: String, indexIds: [UInt32], winner: String) {
        state.withLock { s in
            if s.winners.count >= Self.capacity { s = State() }
            if s.indexSets[collection] != indexIds {
                s.winners = s.winners.filter { $0.key.collection != collection }
                s.indexSets[collection] = indexIds
            }
            s.winners[Key(collection: collection, shape: shape)] = winner
        }
    }

    /// Entries of one collection (for tests and diagnostics).
    func count(collection: UInt32) -> Int {
        state.withLock { s in s.winners.keys.filter { $0.collection == collection }.count }
    }

    /// Forgets a collection's entries (`planCacheClear`).
    func clear(collection: UInt32) {
        state.withLock { s in
            s.winners = s.winners.filter { $0.key.collection != collection }
            s.indexSets[collection] = nil
        }
    }

    /// The shape of a query: values replaced by their type names.
    static func shape(_ filter: Document, sort: SortSpec?, projection: Document?) -> String {
        var out = ""
        describe(.document(filter), into: &out)
        out += "|s"
        for key in sort?.keys ?? [] { out += key.path.joined(separator: ".") + (key.ascending ? "+" : "-") }
        out += "|p"
        if let projection { out += projection.keys.joined(separator: ",") }
        return out
    }

    private static func describe(_ value: BSONValue, into out: inout String) {
        switch value {
        case .document(let d):
            out += "{"
            for (k, v) in d {
                out += k
                out += ":"
                describe(v, into: &out)
                out += ","
            }
            out += "}"
        case .array(let items) where items.contains(where: { $0.documentValue != nil }):
            out += "["
            for item in items {
                describe(item, into: &out)
                out += ","
            }
            out += "]"
        case .array:
            out += "array"
        default:
            out += value.type.name
        }
    }
}
