import OsmanthusBSON
import OsmanthusStorage
import Synchronization

/// Copies a database's change log into a backup repository as segments (SPEC.md §14.9), so a
/// restore can replay it on top of a backup to any later instant.
///
/// `archiveOnce()` reads every record above the last archived sequence up to the engine's
/// visible sequence (one snapshot) and writes them as one segment covering exactly that range.
/// `start(interval:)` does so in a background task every `interval`. While an archiver is
/// attached, the change-log trimmer never deletes a record it has not archived (the pin).
/// Recovery point: a crash loses at most the commits of the last `interval` plus one archive
/// pass (SPEC.md §14.9).
public final class ChangeLogArchiver: Sendable {
    public let archive: ChangeLogArchive
    let database: Database

    public struct Result: Sendable, Equatable {
        public let from: UInt64
        public let through: UInt64
        public let records: Int
        /// Sequences above the archive that the trimmer had already deleted before they were
        /// archived: a gap restore refuses to cross (nil when none).
        public let lostThrough: UInt64?
    }

    struct State {
        var through: SequenceNumber
        var task: Task<Void, Never>?
        var lastError: String?
        /// Set by `stop()`/`detach()`: later passes do nothing (the database may be closing).
        var stopped = false
    }

    // Guards the archived point, the background task and its last error. archiveOnce holds
    // `passLock` for a whole pass so two passes never write overlapping segments.
    let state: Mutex<State>
    let passLock = Mutex(())

    /// Attaches to `database` (its change log must be on) and pins the unarchived records.
    public init(database: Database, repository: String) throws {
        guard database.changeLog.enabled else {
            throw OsmanthusError(.illegalOperation, "cannot archive: the change log of \(database.path) is off")
        }
        self.database = database
        let archive = ChangeLogArchive(repository: repository)
        self.archive = archive
        let through = try wrapping { try archive.archivedThrough() }
        state = Mutex(State(through: through))
        database.changeLog.setArchivePin(through)
    }

    /// The highest sequence archived so far.
    public var archivedThrough: UInt64 { state.withLock { $0.through } }
    /// The error of the last background pass, if it failed.
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Archives every committed record above the archive; nil when nothing was committed since.
    @discardableResult
    public func archiveOnce() throws -> Result? {
        try passLock.withLock { _ in
            guard !state.withLock({ $0.stopped }) else { return nil }
            return try pass()
        }
    }

    /// One archive pass; the caller holds `passLock`.
    private func pass() throws -> Result? {
        let storage = database.storage
        let snapshot = storage.snapshot()
        defer { snapshot.release() }
        let now = Clock.nowMillis()
        let through = snapshot.sequence
        let archived = state.withLock { $0.through }
        guard through > archived else {
            try wrapping { try archive.writeHead(through: archived, checkedAtMillis: now) }
            return nil
        }
        var from = archived + 1
        // Records trimmed before the archiver ever saw them (it was off): say so, and start
        // after them — the archive then has a hole restore will not cross.
        let trimmed = database.changeLog.maxTrimmedThrough()
        var lost: UInt64?
        if trimmed >= from {
            lost = trimmed
            from = trimmed + 1
        }
        var records: [ChangeLogSegment.Record] = []
        if from <= through {
            let it = storage.makeIterator(options: ReadOptions(snapshot: snapshot, fillCache: false))
            it.seek(ChangeLogFormat.recordKey(from))
            while it.isValid, let seq = ChangeLogFormat.sequence(ofKey: it.key), seq <= through {
                records.append(.init(sequence: seq, value: it.value))
                it.next()
            }
            if let e = it.error { throw OsmanthusError.wrapping(e) }
            let segment = ChangeLogSegment(
                from: from, through: through, archivedAtMillis: now, records: records)
            try wrapping { try archive.write(segment) }
        }
        try wrapping { try archive.writeHead(through: through, checkedAtMillis: now) }
        state.withLock { $0.through = through }
        database.changeLog.setArchivePin(through)
        return Result(from: from, through: through, records: records.count, lostThrough: lost)
    }

    /// Runs `archiveOnce` every `interval` until `stop()`; a failed pass is kept in `lastError`
    /// and retried at the next tick (the pin keeps its records); `onError` hears of each failure.
    public func start(interval: Duration, onError: (@Sendable (any Error) -> Void)? = nil) {
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                do {
                    try archiveOnce()
                    state.withLock { $0.lastError = nil }
                } catch {
                    state.withLock { $0.lastError = "\(error)" }
                    onError?(error)
                }
                try? await Task.sleep(for: interval)
            }
        }
        state.withLock { s in
            s.task?.cancel()
            s.task = task
        }
    }

    /// Stops the background loop (a pass under way finishes first), then archives what is
    /// left. Call before closing the database; the archiver does nothing afterwards.
    public func stop() throws {
        state.withLock { s in
            s.stopped = true
            s.task?.cancel()
            s.task = nil
        }
        _ = try passLock.withLock { _ in try pass() }
    }

    /// Stops without a last pass and unpins: the trimmer may delete unarchived records again.
    public func detach() {
        state.withLock { s in
            s.stopped = true
            s.task?.cancel()
            s.task = nil
        }
        passLock.withLock { _ in database.changeLog.setArchivePin(nil) }
    }
}
