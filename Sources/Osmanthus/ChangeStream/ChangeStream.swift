import OsmanthusBSON

/// The changes of a collection, a database or everything, as an `AsyncSequence` of events in
/// commit order. Iterating waits for new commits (woken by them, no polling); cancelling the
/// iterating task ends the wait with `CancellationError`. The log is read on demand, at most
/// a small batch ahead, so a slow consumer costs disk, not memory.
///
/// ```swift
/// for try await event in try orders.changes() {
///     print(event.operationType, event.documentKey ?? [:])
///     saveToken(event.resumeToken)
/// }
/// ```
public struct ChangeStream: AsyncSequence, Sendable {
    public typealias Element = ChangeEvent
    let reader: ChangeStreamReader

    public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

    public struct Iterator: AsyncIteratorProtocol {
        var reader: ChangeStreamReader
        var buffer: [ChangeEvent] = []
        var index = 0
        /// Where the reader stood before it read `buffer`.
        var tokenBeforeBuffer: Document?

        /// Events read from the log per trip to the pool: the most a consumer holds in memory.
        static let batch = 64

        /// Where to resume to continue after the last event returned (or after everything read
        /// when the stream is idle).
        public var resumeToken: Document {
            guard index < buffer.count else { return reader.postBatchResumeToken }
            return index > 0 ? buffer[index - 1].resumeToken : (tokenBeforeBuffer ?? reader.postBatchResumeToken)
        }

        public mutating func next() async throws -> ChangeEvent? {
            while true {
                if index < buffer.count {
                    let event = buffer[index]
                    index += 1
                    return event
                }
                if reader.isFinished { return nil }
                try Task.checkCancellation()
                let database = reader.database
                let seen = database.changeLog.notifier.generation
                let current = reader
                tokenBeforeBuffer = reader.postBatchResumeToken
                let (events, advanced) = try await database.pool.run {
                    var r = current
                    let events = try r.poll(limit: Self.batch)
                    return (events, r)
                }
                reader = advanced
                buffer = events
                index = 0
                if events.isEmpty && !reader.isFinished {
                    await database.changeLog.notifier.wait(past: seen)
                }
            }
        }
    }
}

extension Database {
    /// Opens a stream of `scope`'s changes; without a resume option it starts after the latest commit.
    public func changes(_ scope: ChangeStreamScope = .cluster, options: ChangeStreamOptions = ChangeStreamOptions())
        throws -> ChangeStream
    {
        ChangeStream(reader: try changeStreamReader(scope, options: options))
    }

    /// The synchronous reader under a stream, for callers with their own waiting (the server).
    public func changeStreamReader(_ scope: ChangeStreamScope, options: ChangeStreamOptions) throws -> ChangeStreamReader {
        try ChangeStreamReader(database: self, scope: scope, options: options)
    }

    /// A value that changes after every commit that wrote change records.
    public var changeGeneration: UInt64 { changeLog.notifier.generation }

    /// Waits until a commit after `generation` wrote change records, or `timeout` passed.
    public func waitForChanges(after generation: UInt64, timeout: Duration?) async {
        await changeLog.notifier.wait(past: generation, timeout: timeout)
    }

    /// Blocks the calling thread until a commit after `generation` wrote change records, or
    /// `timeoutMillis` passed. For callers on their own threads (the server's command pool).
    public func blockingWaitForChanges(after generation: UInt64, timeoutMillis: Int64) {
        changeLog.notifier.blockingWait(past: generation, timeoutMillis: timeoutMillis)
    }

    /// How much change history `database` keeps (its stored setting, or the default).
    public func changeLogRetention(of database: String) -> ChangeLogRetention {
        changeLog.retention(of: database)
    }

    /// Sets and stores how much change history `database` keeps; the trimmer applies it.
    public func setChangeLogRetention(_ retention: ChangeLogRetention, of database: String) throws {
        try changeLog.setRetention(retention, of: database, sync: options.syncWrites)
    }

    /// Deletes change records past retention now (the trimmer also runs after commits, at most
    /// once a second). Returns how many records were deleted.
    @discardableResult
    public func trimChangeLog() throws -> Int {
        try changeLog.trimRecords()
    }
}

extension Collection {
    /// The changes of this collection.
    public func changes(options: ChangeStreamOptions = ChangeStreamOptions()) throws -> ChangeStream {
        try database.changes(.collection(database: databaseName, name: name), options: options)
    }
}
