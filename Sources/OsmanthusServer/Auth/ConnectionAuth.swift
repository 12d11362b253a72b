import Synchronization

/// One connection's authentication: the users it has authenticated as, and the SCRAM exchange
/// in progress. Reached from the command threads (one command of a connection at a time), hence
/// the mutex.
final class ConnectionAuth: Sendable {
    private struct State {
        /// "db.user" names authenticated on this connection.
        var users: [String] = []
        /// Each authenticated user's roles, read from its record when it authenticated.
        var grants: [String: [RoleGrant]] = [:]
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

    /// The roles of every user authenticated on this connection (their union), each once.
    var roleGrants: [RoleGrant] {
        state.withLock { state in
            var seen = Set<RoleGrant>()
            return state.users.flatMap { state.grants[$0] ?? [] }.filter { seen.insert($0).inserted }
        }
    }

    /// Records the roles of `user` ("db.user"), which has authenticated.
    func grant(_ roles: [RoleGrant], to user: String) {
        state.withLock { $0.grants[user] = roles }
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
