import Synchronization

/// One connection's authentication: the users it has authenticated as, and the SCRAM exchange
/// in progress. Reached from the command threads (one command of a connection at a time), hence
/// the mutex.
final class ConnectionAuth: Sendable {
    private struct State {
        /// "db.user" names authenticated on this connection.
        var users: [String] = []
        /// What each authenticated user's roles allow, read at `generation`.
        var grants: [String: AuthorizedRoles] = [:]
        /// The server's user generation when `grants` were read.
        var generation: UInt64 = 0
        var conversation: SCRAMConversation?
        var conversationDatabase = ""
        /// The server-final message was sent but the client may still send an empty step.
        var awaitingEmptyStep = false
        /// saslStart's `options.skipEmptyExchange`: the proof's reply ends the exchange.
        var skipEmptyExchange = false
    }

    private let state = Mutex(State())

    var isAuthenticated: Bool { state.withLock { !$0.users.isEmpty } }

    var users: [String] { state.withLock { $0.users } }

    /// What the users authenticated on this connection may do (their union).
    var authorized: AuthorizedRoles {
        state.withLock { state in
            // One user is the common case: no union to build on every command.
            if state.users.count == 1, let only = state.grants[state.users[0]] { return only }
            return state.users.reduce(AuthorizedRoles()) { $0.merged(with: state.grants[$1] ?? AuthorizedRoles()) }
        }
    }

    /// Records the roles of `user` ("db.user"), which has authenticated; `generation` is the
    /// server's user generation read before the roles were.
    func grant(_ roles: AuthorizedRoles, to user: String, generation: UInt64) {
        state.withLock {
            $0.grants[user] = roles
            $0.generation = $0.grants.count == 1 ? generation : min($0.generation, generation)
        }
    }

    /// Re-reads the roles of this connection's users when any user changed since they were read
    /// (MongoDB's user cache invalidation): a dropped user is no longer authenticated here, and
    /// new or revoked roles apply from the next command. One atomic load when nothing changed.
    func refresh(generation current: UInt64, store: UserStore) {
        let users: [String]? = state.withLock { $0.generation == current || $0.users.isEmpty ? nil : $0.users }
        guard let users else { return }
        var fresh: [String: AuthorizedRoles] = [:]
        for name in users {
            guard let dot = name.firstIndex(of: ".") else { continue }
            let db = String(name[..<dot])
            let user = String(name[name.index(after: dot)...])
            let roles: AuthorizedRoles?
            do {
                roles = try store.authorizedRoles(user: user, db: db)
            } catch {
                // An unreadable record keeps the old roles rather than locking the user out.
                roles = state.withLock { $0.grants[name] }
            }
            if let roles { fresh[name] = roles }
        }
        state.withLock { state in
            state.users.removeAll { fresh[$0] == nil }
            state.grants = fresh
            state.generation = current
        }
    }

    func begin(_ conversation: SCRAMConversation, database: String, skipEmptyExchange: Bool) {
        state.withLock {
            $0.conversation = conversation
            $0.conversationDatabase = database
            $0.awaitingEmptyStep = false
            $0.skipEmptyExchange = skipEmptyExchange
        }
    }

    /// The exchange in progress (nil: none), and whether only the empty last step remains.
    func current() -> (SCRAMConversation, database: String, awaitingEmptyStep: Bool)? {
        state.withLock { state in
            state.conversation.map { ($0, state.conversationDatabase, state.awaitingEmptyStep) }
        }
    }

    /// Records the user as authenticated; returns whether the exchange is done (otherwise one
    /// empty step follows).
    func proofAccepted() -> Bool {
        state.withLock { state in
            guard let conversation = state.conversation else { return true }
            let name = "\(state.conversationDatabase).\(conversation.user)"
            if !state.users.contains(name) { state.users.append(name) }
            if state.skipEmptyExchange {
                state.conversation = nil
                return true
            }
            state.awaitingEmptyStep = true
            return false
        }
    }

    func endConversation() {
        state.withLock {
            $0.conversation = nil
            $0.awaitingEmptyStep = false
        }
    }

    func logout() {
        state.withLock {
            $0.users.removeAll()
            $0.grants.removeAll()
            $0.conversation = nil
        }
    }
}
