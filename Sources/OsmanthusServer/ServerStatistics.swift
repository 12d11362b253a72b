import OsmanthusBSON
import Synchronization

/// Counters reported by `serverStatus` (`opcounters`, `connections`). Atomics: they are
/// bumped from every command thread and event loop.
final class ServerStatistics: Sendable {
    enum Counter: Int, CaseIterable {
        case insert, query, update, delete, getmore, command
    }

    private let inserts = Atomic<Int64>(0)
    private let queries = Atomic<Int64>(0)
    private let updates = Atomic<Int64>(0)
    private let deletes = Atomic<Int64>(0)
    private let getMores = Atomic<Int64>(0)
    private let commands = Atomic<Int64>(0)
    private let retriedWrites = Atomic<Int64>(0)
    private let transactionsStarted = Atomic<Int64>(0)
    private let transactionsCommitted = Atomic<Int64>(0)
    private let transactionsAborted = Atomic<Int64>(0)
    let currentConnections = Atomic<Int64>(0)
    let totalConnections = Atomic<Int64>(0)

    /// Session events (`serverStatus.transactions`).
    enum SessionEvent {
        case retriedWrite, transactionStarted, transactionCommitted, transactionAborted
    }

    func count(_ event: SessionEvent) {
        switch event {
        case .retriedWrite: retriedWrites.add(1, ordering: .relaxed)
        case .transactionStarted: transactionsStarted.add(1, ordering: .relaxed)
        case .transactionCommitted: transactionsCommitted.add(1, ordering: .relaxed)
        case .transactionAborted: transactionsAborted.add(1, ordering: .relaxed)
        }
    }

    /// `serverStatus.transactions`, in MongoDB's field names.
    var transactions: Document {
        [
            "retriedCommandsCount": .int64(retriedWrites.load(ordering: .relaxed)),
            "totalStarted": .int64(transactionsStarted.load(ordering: .relaxed)),
            "totalCommitted": .int64(transactionsCommitted.load(ordering: .relaxed)),
            "totalAborted": .int64(transactionsAborted.load(ordering: .relaxed)),
        ]
    }

    func count(_ counter: Counter, _ amount: Int64 = 1) {
        switch counter {
        case .insert: inserts.add(amount, ordering: .relaxed)
        case .query: queries.add(amount, ordering: .relaxed)
        case .update: updates.add(amount, ordering: .relaxed)
        case .delete: deletes.add(amount, ordering: .relaxed)
        case .getmore: getMores.add(amount, ordering: .relaxed)
        case .command: commands.add(amount, ordering: .relaxed)
        }
    }

    /// `serverStatus.opcounters`.
    var opcounters: Document {
        [
            "insert": .int64(inserts.load(ordering: .relaxed)),
            "query": .int64(queries.load(ordering: .relaxed)),
            "update": .int64(updates.load(ordering: .relaxed)),
            "delete": .int64(deletes.load(ordering: .relaxed)),
            "getmore": .int64(getMores.load(ordering: .relaxed)),
            "command": .int64(commands.load(ordering: .relaxed)),
        ]
    }
}
