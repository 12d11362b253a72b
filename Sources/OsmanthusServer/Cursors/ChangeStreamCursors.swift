import Osmanthus
import OsmanthusBSON
import Synchronization

/// The server's open change-stream cursors, by id. Kept apart from `CursorManager` because a
/// change stream is never exhausted by an empty batch (it waits for commits), outlives a drop
/// of its collection (it must deliver the drop and the invalidate), and answers every batch
/// with a postBatchResumeToken.
final class ChangeStreamCursors: Sendable {
    private struct Entry {
        /// nil while a getMore has the cursor checked out.
        var reader: ChangeStreamReader?
        var namespace: String
        var lastUsedMillis: Int64
        /// The `lsid` the stream was opened with; ending that session closes it.
        var session: BSONValue?
        /// The getMore waiting for commits with the reader, if one is parked.
        var parked: ChangeStreamWait?
    }

    // Guards the table; never held while a reader reads or waits.
    private let state = Mutex<[Int64: Entry]>([:])

    /// A cursor not used for this long is closed (MongoDB's 10 minutes).
    static let idleTimeoutMillis: Int64 = 10 * 60 * 1000

    func register(_ reader: ChangeStreamReader, namespace: String, session: BSONValue? = nil) -> Int64 {
        let now = WallClock.nowMilliseconds()
        return state.withLock { table in
            // Lazily close idle cursors, so an abandoned stream does not stay forever.
            table = table.filter { $0.value.reader == nil || now - $0.value.lastUsedMillis < Self.idleTimeoutMillis }
            var id: Int64
            repeat { id = Int64.random(in: 1...Int64.max) } while table[id] != nil
            table[id] = Entry(reader: reader, namespace: namespace, lastUsedMillis: now, session: session)
            return id
        }
    }

    /// The reader of change-stream cursor `id`, exclusively; nil when `id` is not a change stream.
    func checkOut(id: Int64, namespace: String) throws -> ChangeStreamReader? {
        try state.withLock { table in
            guard var entry = table[id] else { return nil }
            guard entry.namespace == namespace else {
                throw OsmanthusError(
                    .unauthorized, "Requested getMore on namespace '\(namespace)', but cursor belongs to '\(entry.namespace)'")
            }
            guard let reader = entry.reader else {
                throw OsmanthusError(.init(292, "CursorInUse"), "cursor id \(id) is already in use")
            }
            entry.reader = nil
            table[id] = entry
            return reader
        }
    }

    /// Notes the getMore that waits with the checked-out reader, so that killCursors and the
    /// session's end can stop it. False when the stream was closed meanwhile.
    func park(_ wait: ChangeStreamWait) -> Bool {
        state.withLock { table in
            guard table[wait.id] != nil else { return false }
            table[wait.id]?.parked = wait
            return true
        }
    }

    /// Puts the reader back after a batch; a finished (invalidated) or failed stream is closed.
    func checkIn(id: Int64, _ reader: ChangeStreamReader?) {
        state.withLock { table in
            guard var entry = table[id] else { return }
            entry.parked = nil
            if let reader, !reader.isFinished {
                entry.reader = reader
                entry.lastUsedMillis = WallClock.nowMilliseconds()
                table[id] = entry
            } else {
                table[id] = nil
            }
        }
    }

    /// killCursors: the ids of `ids` that were change streams on `namespace`, now closed.
    func kill(ids: [Int64], namespace: String) -> [Int64] {
        var waits: [ChangeStreamWait] = []
        let killed = state.withLock { table in
            ids.filter { id in
                guard let entry = table[id], entry.namespace == namespace else { return false }
                if let parked = entry.parked { waits.append(parked) }
                table[id] = nil
                return true
            }
        }
        for wait in waits { wait.kill() }
        return killed
    }

    /// Closes the streams opened in these sessions (endSessions, killSessions, expiry); nil:
    /// every stream opened in any session (killAllSessions). A stream a getMore has checked out
    /// is dropped when it is checked in. Returns how many were closed.
    @discardableResult
    func kill(sessions: [BSONValue]?) -> Int {
        let doomed = state.withLock { table in
            let doomed = table.filter { _, entry in
                guard let owner = entry.session else { return false }
                return sessions.map { $0.contains(owner) } ?? true
            }
            for id in doomed.keys { table[id] = nil }
            return doomed
        }
        for entry in doomed.values { entry.parked?.kill() }
        return doomed.count
    }
}
