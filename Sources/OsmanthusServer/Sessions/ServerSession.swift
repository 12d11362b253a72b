import NIOConcurrencyHelpers
import NIOCore
import Osmanthus
import OsmanthusBSON
import Synchronization

/// One logical session (a driver's `lsid`): the record of its last retryable write and its
/// open multi-document transaction.
///
/// The session's lock is held for the whole of each command of the session (see
/// `SessionGate`). That is what makes the embedded `Transaction`, which must be used by one
/// thread at a time, safe here: NIO's thread pool runs consecutive commands of one session on
/// different threads (and two connections may share a session), but the lock orders them, each
/// one seeing everything the previous one did.
///
/// `@unchecked Sendable`: `state` is only touched inside `lock` (`withState`); the rest is
/// immutable or atomic.
final class ServerSession: @unchecked Sendable {
    /// The `lsid` document as the driver sends it (`{id: UUID}`); also the cursors' owner key.
    let lsid: BSONValue
    private let lock = NIOLock()
    private var state = State()
    /// `NIODeadline.now()` in nanoseconds at the last command; the session table expires
    /// sessions idle longer than `logicalSessionTimeoutMinutes`.
    private let lastUsed: Synchronization.Atomic<UInt64>
    /// Set when the session table forgets the session (under its shard's lock): a connection's
    /// `SessionCache` must not hand it out again.
    private let ended = Synchronization.Atomic<Bool>(false)

    init(lsid: BSONValue) {
        self.lsid = lsid
        self.lastUsed = Synchronization.Atomic(NIODeadline.now().uptimeNanoseconds)
    }

    /// Runs `body` with the session's state, one caller at a time.
    func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try lock.withLock { try body(&state) }
    }

    func touch() {
        lastUsed.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
    }

    var lastUsedNanoseconds: UInt64 { lastUsed.load(ordering: .relaxed) }

    /// Whether the session table has forgotten this session (`markEnded`).
    var isEnded: Bool { ended.load(ordering: .acquiring) }

    /// Called by `SessionTable` as it removes the session.
    func markEnded() { ended.store(true, ordering: .releasing) }

    /// Everything guarded by the session's lock.
    struct State {
        /// The highest `txnNumber` the session has used (retryable write or transaction); -1: none.
        var txnNumber: Int64 = -1
        /// The reply of the retryable write numbered `txnNumber`, returned again to a retry.
        var recordedReply: Document?
        /// What became of the transaction numbered `txnNumber` (`.none`: it was not one).
        var phase = Phase.none
        /// The open transaction while `phase` is `.inProgress`.
        var transaction: Transaction?

        /// Ends an open transaction, discarding its writes.
        mutating func abortOpenTransaction() {
            transaction?.abort()
            transaction = nil
            if phase == .inProgress { phase = .aborted }
        }
    }

    enum Phase {
        case none, inProgress, committed, aborted
    }
}
