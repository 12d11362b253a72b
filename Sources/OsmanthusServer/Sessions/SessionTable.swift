import NIOCore
import Osmanthus
import OsmanthusBSON
import Synchronization

/// The server's logical sessions by `lsid`, created on first use. A session idle longer than
/// `logicalSessionTimeoutMinutes` is forgotten (its open transaction aborted, its cursors
/// closed) by `sweep`, which the server runs on its command thread pool every
/// `sweepInterval`; a lookup never sweeps (lookups run on the event loops, for inline
/// commands) unless the table is full and only expiring idle sessions can make room. Sessions
/// live in memory only: after a restart drivers' retries of writes from before it run again
/// (SPEC §13).
///
/// The sessions are spread over `shardCount` shards, each with its own lock: a sweep holds one
/// shard's lock at a time, never the whole table's, so a lookup waits for at most one shard's
/// scan; and commands of connections on different event loops rarely meet on one lock.
final class SessionTable: Sendable {
    static let timeoutMinutes = 30
    /// MongoDB's default `maxSessions`: a client inventing lsids cannot grow the table past it.
    static let defaultMaxSessions = 1_000_000
    static let tooManySessions = OsmanthusError.Code(261, "TooManyLogicalSessions")
    /// A power of two (the shard is picked by the low bits of the lsid's hash).
    static let shardCount = 64

    /// One shard: its lock guards its sessions.
    private final class Shard: Sendable {
        let sessions = Mutex<[Key: ServerSession]>([:])
    }

    /// An lsid with its hash computed once: the same hash picks the shard and is all the
    /// shard's dictionary hashes (hashing the lsid document was done twice per command).
    private struct Key: Hashable {
        let lsid: BSONValue
        let hash: Int

        init(_ lsid: BSONValue) {
            self.lsid = lsid
            self.hash = lsid.hashValue
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.lsid == b.lsid }
    }

    private func shard(for key: Key) -> Shard { shards[key.hash & (Self.shardCount - 1)] }

    let sweepInterval: TimeAmount
    private let timeout: TimeAmount
    private let cursors: CursorManager
    private let changeStreams: ChangeStreamCursors
    private let maxSessions: Int
    private let shards: [Shard]
    /// Sessions in all shards: a new session takes a slot here before it enters its shard, so
    /// the table never holds more than `maxSessions`.
    private let live = Atomic<Int>(0)

    init(cursors: CursorManager, changeStreams: ChangeStreamCursors, timeout: TimeAmount = .minutes(Int64(SessionTable.timeoutMinutes)),
         sweepInterval: TimeAmount = .minutes(1), maxSessions: Int = SessionTable.defaultMaxSessions) {
        self.cursors = cursors
        self.changeStreams = changeStreams
        self.maxSessions = maxSessions
        self.timeout = timeout
        self.sweepInterval = sweepInterval
        self.shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    /// The session `lsid` names (created if new); nil when the command has no `lsid`.
    func session(for lsid: BSONValue?) throws -> ServerSession? {
        guard let lsid else { return nil }
        guard case .document(let document) = lsid, document["id"] != nil else {
            throw OsmanthusError(.typeMismatch, "lsid must be a document with an id field")
        }
        let key = Key(lsid)
        let shard = shard(for: key)
        if let known = shard.sessions.withLock({ $0[key] }) {
            known.touch()
            return known
        }
        if live.load(ordering: .relaxed) >= maxSessions { sweep() }
        let session = shard.sessions.withLock { sessions -> ServerSession? in
            if let known = sessions[key] { return known }  // another command created it meanwhile
            guard live.add(1, ordering: .relaxed).newValue <= maxSessions else {
                live.subtract(1, ordering: .relaxed)
                return nil
            }
            let session = ServerSession(lsid: lsid)
            sessions[key] = session
            return session
        }
        guard let session else {
            throw OsmanthusError(
                Self.tooManySessions,
                "Unable to add session into the cache because the number of active sessions is too high "
                    + "(\(maxSessions)); end sessions with endSessions or wait for idle ones to expire")
        }
        session.touch()
        return session
    }

    /// `session(for:)`, but `cached` itself when it is the session `lsid` names and the table
    /// still holds it: the bytes of the two lsid documents compared instead of a lookup (see
    /// `SessionCache`). A forgotten session is never returned; the lookup makes a new one.
    func session(for lsid: BSONValue?, reusing cached: ServerSession?) throws -> ServerSession? {
        if let cached, let lsid, cached.lsid == lsid, !cached.isEnded {
            cached.touch()
            return cached
        }
        return try session(for: lsid)
    }

    /// Forgets the sessions idle longer than the timeout, one shard at a time, then aborts their
    /// transactions and closes their cursors (outside every shard lock). Returns how many.
    @discardableResult
    func sweep(now: NIODeadline = .now()) -> Int {
        let span = UInt64(max(0, timeout.nanoseconds))
        guard now.uptimeNanoseconds >= span else { return 0 }
        let cutoff = now.uptimeNanoseconds - span
        var expired: [ServerSession] = []
        for shard in shards {
            shard.sessions.withLock { sessions in
                let idle = sessions.values.filter { $0.lastUsedNanoseconds < cutoff }
                for session in idle {
                    sessions[Key(session.lsid)] = nil
                    session.markEnded()
                }
                expired += idle
            }
        }
        live.subtract(expired.count, ordering: .relaxed)
        close(expired)
        return expired.count
    }

    /// Forgets these sessions (endSessions, killSessions); nil: every session (killAllSessions).
    func end(_ lsids: [BSONValue]?) {
        var ended: [ServerSession] = []
        if let lsids {
            for lsid in lsids {
                let key = Key(lsid)
                let removed = shard(for: key).sessions.withLock { sessions -> ServerSession? in
                    let session = sessions.removeValue(forKey: key)
                    session?.markEnded()
                    return session
                }
                if let removed { ended.append(removed) }
            }
        } else {
            for shard in shards {
                ended += shard.sessions.withLock { sessions in
                    defer { sessions.removeAll() }
                    for session in sessions.values { session.markEnded() }
                    return Array(sessions.values)
                }
            }
        }
        live.subtract(ended.count, ordering: .relaxed)
        close(ended)
        cursors.kill(sessions: lsids)
        changeStreams.kill(sessions: lsids)
    }

    var count: Int { live.load(ordering: .relaxed) }

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
