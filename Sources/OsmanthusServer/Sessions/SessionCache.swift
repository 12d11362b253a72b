/// The session a connection's inline commands used last (SPEC.md §13.6). A driver gives each
/// operation a session from its pool, most recently used first, so one connection sends the
/// same `lsid` request after request; comparing its bytes with the last one's skips the
/// session table's lookup (decoding the UUID, hashing it, a shard lock): about 1.5k
/// instructions of a find by `_id`.
///
/// Owned by one connection and used on its event loop only (commands run on the thread pool
/// look sessions up in the table), hence not Sendable. A session the table has forgotten
/// (ended, killed, expired) is never reused: `SessionTable.session(for:reusing:)` checks
/// `ServerSession.isEnded`.
final class SessionCache {
    var session: ServerSession?

    init() {}
}
