import NIOCore
import Osmanthus
import OsmanthusBSON
import Synchronization

/// The server's logical sessions by `lsid`, created on first use. A session idle longer than
/// `logicalSessionTimeoutMinutes` is forgotten (its open transaction aborted, its cursors
/// closed) by a sweep that runs at most once a minute, on the next session lookup. Sessions
/// live in memory only: after a restart drivers' retries of writes from before it run again
/// (SPEC §13).
final class SessionTable: Sendable {
    static let timeoutMinutes = 30
    /// MongoDB's default `maxSessions`: a client inventing lsids cannot grow the table past it.
    static let defaultMaxSessions = 1_000_000
    static let tooManySessions = OsmanthusError.Code(261, "TooManyLogicalSessions")

    private let timeout: TimeAmount
    private let sweepInterval: TimeAmount
    private let cursors: CursorManager
    private let changeStreams: ChangeStreamCursors
    private let maxSessions: Int
    private let table = Mutex(Table())

    private struct Table {
        var sessions: [BSONValue: ServerSession] = [:]
        var lastSweep = NIODeadline.now()
    }

    init(cursors: CursorManager, changeStreams: ChangeStreamCursors, timeout: TimeAmount = .minutes(Int64(SessionTable.timeoutMinutes)),
         sweepInterval: TimeAmount = .minutes(1), maxSessions: Int = SessionTable.defaultMaxSessions) {
        self.cursors = cursors
        self.changeStreams = changeStreams
        self.maxSessions = maxSessions
        self.timeout = timeout
        self.sweepInterval = sweepInterval
    }

    /// The session `lsid` names (created if new); nil when the command has no `lsid`.
    func session(for lsid: BSONValue?) throws -> ServerSession? {
        guard let lsid else { return nil }
        guard case .document(let document) = lsid, document["id"] != nil else {
            throw OsmanthusError(.typeMismatch, "lsid must be a document with an id field")
        }
        let now = NIODeadline.now()
        let (session, expired) = table.withLock { table -> (ServerSession?, [ServerSession]) in
            var expired: [ServerSession] = []
            let full = table.sessions.count >= maxSessions && table.sessions[lsid] == nil
            if full || now - table.lastSweep >= sweepInterval {
                table.lastSweep = now
                let cutoff = now.uptimeNanoseconds - UInt64(max(0, timeout.nanoseconds))
                for (key, session) in table.sessions where session.lastUsedNanoseconds < cutoff {
                    table.sessions[key] = nil
                    expired.append(session)
                }
            }
            if let session = table.sessions[lsid] { return (session, expired) }
            guard table.sessions.count < maxSessions else { return (nil, expired) }
            let session = ServerSession(lsid: lsid)
            table.sessions[lsid] = session
            return (session, expired)
        }
        close(expired)
        guard let session else {
            throw OsmanthusError(
                Self.tooManySessions,
                "Unable to add session into the cache because the number of active sessions is too high "
                    + "(\(maxSessions)); end sessions with endSessions or wait for idle ones to expire")
        }
        session.touch()
        return session
    }

    /// Forgets these sessions (endSessions, killSessions); nil: every session (killAllSessions).
    func end(_ lsids: [BSONValue]?) {
        let ended = table.withLock { table -> [ServerSession] in
            guard let lsids else {
                defer { table.sessions.removeAll() }
                return Array(table.sessions.values)
            }
            return lsids.compactMap { table.sessions.removeValue(forKey: $0) }
        }
        close(ended)
        cursors.kill(sessions: lsids)
        changeStreams.kill(sessions: lsids)
    }

    var count: Int { table.withLock { $0.sessions.count } }

    /// Aborts the sessions' transactions (waiting for a running command of theirs to finish)
    /// and closes their cursors.
    private func close(_ sessions: [ServerSession]) {
        guard !sessions.isEmpty else { return }
        for session in sessions {
            session.withState { $0.abortOpenTransaction() }
        }
        cursors.kill(sessions: sessions.map(\.lsid))
        changeStreams.kill(sessions: sessions.map(\.lsid))
    }
}
