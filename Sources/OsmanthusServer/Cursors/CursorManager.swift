import NIOCore
import Osmanthus
import OsmanthusBSON
import Synchronization

/// The server's open cursors, by id. A cursor belongs to no connection for reading (drivers
/// send getMore on whichever pooled connection is free) but counts against the cap of the
/// connection that opened it. Idle cursors are closed by `closeIdle`, run periodically.
final class CursorManager: Sendable {
    static let cursorInUse = OsmanthusError.Code(292, "CursorInUse")
    static let tooManyCursors = OsmanthusError.Code(96, "OperationFailed")

    private struct Entry {
        var cursor: ServerCursor
        var lastUsed: NIODeadline
        var inUse: Bool
    }

    /// The lock protects the table of cursors and the per-connection counts; never held while
    /// a cursor reads.
    private struct State {
        var entries: [Int64: Entry] = [:]
        var perConnection: [Int64: Int] = [:]
    }

    private let state = Mutex(State())
    let idleTimeout: TimeAmount
    let maxPerConnection: Int

    init(idleTimeout: TimeAmount, maxPerConnection: Int) {
        self.idleTimeout = idleTimeout
        self.maxPerConnection = maxPerConnection
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Keeps `cursor` (which still has documents) for later getMores and gives it its id;
    /// it is not checked out. Throws when its connection already has the most cursors allowed.
    @discardableResult
    func register(_ cursor: ServerCursor) throws -> Int64 {
        try state.withLock { state in
            let connectionID = cursor.connectionID
            let open = state.perConnection[connectionID, default: 0]
            guard open < maxPerConnection else {
                throw OsmanthusError(
                    Self.tooManyCursors, "connection \(connectionID) already has \(open) open cursors (the limit)")
            }
            var id: Int64
            repeat { id = Int64.random(in: 1...Int64.max) } while state.entries[id] != nil
            Self.assign(id, to: cursor)
            state.entries[id] = Entry(cursor: cursor, lastUsed: .now(), inUse: false)
            state.perConnection[connectionID] = open + 1
            return id
        }
    }

    /// The cursor `id` for a getMore on `namespace`, exclusively.
    func checkOut(id: Int64, namespace: String) throws -> ServerCursor {
        try state.withLock { state in
            guard var entry = state.entries[id] else {
                throw OsmanthusError(.cursorNotFound, "cursor id \(id) not found")
            }
            guard entry.cursor.namespace == namespace else {
                throw OsmanthusError(
                    .unauthorized, "Requested getMore on namespace '\(namespace)', but cursor belongs to '\(entry.cursor.namespace)'")
            }
            guard !entry.inUse else {
                throw OsmanthusError(Self.cursorInUse, "cursor id \(id) is already in use")
            }
            entry.inUse = true
            state.entries[id] = entry
            return entry.cursor
        }
    }

    /// Returns a cursor after a batch; an exhausted (or failed) one is closed.
    func checkIn(_ cursor: ServerCursor, close: Bool = false) {
        state.withLock { state in
            guard var entry = state.entries[cursor.id] else { return }
            if close || cursor.isExhausted {
                Self.remove(cursor.id, from: &state)
            } else {
                entry.inUse = false
                entry.lastUsed = .now()
                state.entries[cursor.id] = entry
            }
        }
    }

    /// killCursors: the ids closed and the ids that were not open.
    func kill(ids: [Int64], namespace: String) -> (killed: [Int64], notFound: [Int64]) {
        state.withLock { state in
            var killed: [Int64] = []
            var notFound: [Int64] = []
            for id in ids {
                if let entry = state.entries[id], entry.cursor.namespace == namespace {
                    Self.remove(id, from: &state)
                    killed.append(id)
                } else {
                    notFound.append(id)
                }
            }
            return (killed, notFound)
        }
    }

    /// Closes the cursors of these sessions (endSessions), or every cursor (nil: killAllSessions).
    @discardableResult
    func kill(sessions: [BSONValue]?) -> Int {
        state.withLock { state in
            let ids = state.entries.values.filter { entry in
                guard let sessions else { return true }
                guard let owner = entry.cursor.sessionID else { return false }
                return sessions.contains(owner)
            }.map(\.cursor.id)
            for id in ids { Self.remove(id, from: &state) }
            return ids.count
        }
    }

    /// Closes the cursors on `namespace` (a dropped or renamed collection), or on every
    /// namespace starting with it when `prefix` (a dropped database: "db.").
    @discardableResult
    func kill(namespace: String, prefix: Bool = false) -> Int {
        state.withLock { state in
            let ids = state.entries.values.filter { entry in
                prefix ? entry.cursor.namespace.hasPrefix(namespace) : entry.cursor.namespace == namespace
            }.map(\.cursor.id)
            for id in ids { Self.remove(id, from: &state) }
            return ids.count
        }
    }

    /// Closes cursors not used for `idleTimeout`; returns how many.
    @discardableResult
    func closeIdle(now: NIODeadline = .now()) -> Int {
        let closed: [Entry] = state.withLock { state in
            let ids = state.entries.values.filter { !$0.inUse && $0.lastUsed + idleTimeout <= now }.map(\.cursor.id)
            return ids.compactMap { Self.remove($0, from: &state) }
        }
        // The cursors are released here, outside the lock: a cursor's last release may close
        // engine iterators and snapshots.
        return closed.count
    }

    @discardableResult
    private static func remove(_ id: Int64, from state: inout State) -> Entry? {
        guard let entry = state.entries.removeValue(forKey: id) else { return nil }
        let connection = entry.cursor.connectionID
        let open = state.perConnection[connection, default: 1] - 1
        state.perConnection[connection] = open > 0 ? open : nil
        return entry
    }
}
