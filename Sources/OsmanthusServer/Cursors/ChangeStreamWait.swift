import Osmanthus
import OsmanthusBSON
import Synchronization

/// A change-stream getMore that found nothing and waits for a commit (awaitData up to
/// maxTimeMS) without holding a thread: the command returns `CommandReply.parked` with this,
/// the connection keeps the request pending and `sleep`s on the change notifier in a task,
/// then polls again on a command thread (`ChangeStreamCommands.resume`) and replies. The
/// stream's reader stays checked out of `ChangeStreamCursors` meanwhile, held here.
///
/// killCursors and ending the stream's session `kill` it (the getMore answers CursorKilled);
/// a connection that closes `cancel`s it (the stream is closed, as an interrupted getMore's is).
final class ChangeStreamWait: Sendable {
    static let cursorKilled = OsmanthusError.Code(237, "CursorKilled")

    let id: Int64
    let namespace: String
    /// The batch limit of the getMore.
    let limit: Int
    /// When the getMore answers even if nothing came (wall-clock milliseconds).
    let deadlineMillis: Int64

    private struct State {
        var reader: ChangeStreamReader?
        /// The notifier's generation read before the last poll: a commit after it wakes the wait.
        var generation: UInt64
        var task: Task<Void, Never>?
        var killed = false
        var cancelled = false
    }

    // Guards the reader, the generation and the task handle; never held while waiting or polling.
    private let state: Mutex<State>

    init(id: Int64, namespace: String, limit: Int, deadlineMillis: Int64, reader: ChangeStreamReader, generation: UInt64) {
        self.id = id
        self.namespace = namespace
        self.limit = limit
        self.deadlineMillis = deadlineMillis
        state = Mutex(State(reader: reader, generation: generation))
    }

    /// Whether killCursors or the session's end closed the stream while it waited.
    var isKilled: Bool { state.withLock { $0.killed } }

    /// Records the task that sleeps for this wait (cancelled at once if the wait already was).
    func attach(_ task: Task<Void, Never>) {
        let stopped = state.withLock { s -> Bool in
            s.task = task
            return s.killed || s.cancelled
        }
        if stopped { task.cancel() }
    }

    /// killCursors / endSessions: the stream is gone; the getMore stops waiting.
    func kill() {
        state.withLock { s -> Task<Void, Never>? in
            s.killed = true
            return s.task
        }?.cancel()
    }

    /// The connection closed: stop waiting.
    func cancel() {
        state.withLock { s -> Task<Void, Never>? in
            s.cancelled = true
            return s.task
        }?.cancel()
    }

    /// The reader, to poll again (nil if taken already).
    func takeReader() -> ChangeStreamReader? {
        state.withLock { s in
            defer { s.reader = nil }
            return s.reader
        }
    }

    /// Puts the reader back for another wait after a poll that found nothing.
    func rearm(_ reader: ChangeStreamReader, generation: UInt64) {
        state.withLock { s in
            s.reader = reader
            s.generation = generation
            s.task = nil
        }
    }

    /// The longest one wait on the notifier lasts before a killOp is looked for.
    static let killCheckMillis: Int64 = 100

    /// Returns once a commit moved the notifier past the generation polled, the deadline
    /// passed, the wait was killed or cancelled, or `operation` was killed (killOp, seen
    /// within `killCheckMillis`). Suspends: no thread is held.
    func sleep(database: Database, operation: RunningOperation?) async {
        while true {
            let (generation, stopped) = state.withLock { ($0.generation, $0.killed || $0.cancelled) }
            let left = deadlineMillis - WallClock.nowMilliseconds()
            if stopped || Task.isCancelled || operation?.isKilled == true || left <= 0 { return }
            if database.changeGeneration != generation { return }
            await database.waitForChanges(after: generation, timeout: .milliseconds(min(left, Self.killCheckMillis)))
        }
    }
}
