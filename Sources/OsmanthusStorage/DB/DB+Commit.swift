/// Group commit with the log's fsync off the write path (SPEC.md §9.1).
///
/// Writers queue up; the one at the head (the leader) joins the batches queued behind it, appends
/// them as one log record, hands it to the OS, inserts it into the memtable, and leaves the queue
/// at once, so the next leader can append its own group while this one waits for its fsync. A
/// group that needs no fsync is done then; a sync group waits until an fsync started after its
/// append has finished. One fsync at a time runs, started by a waiting group's leader, and it
/// covers every group appended before it started, so the groups appended during one fsync share
/// the next. Groups complete in log order: the visible sequence never passes a write that is not
/// yet acknowledged.
extension DB {
    /// A group in the log whose writers wait (see `State.pendingGroups`).
    struct PendingGroup {
        /// The group's writers, its leader first.
        var writers: [Writer]
        var lastSequence: SequenceNumber
        var sync: Bool
    }

    /// What a writer's `batch` becomes once the leader took it into a group.
    private static let takenBatch = WriteBatch()

    func commit(_ writer: Writer) throws {
        monitor.lock()
        if state.closing || state.closed {
            monitor.unlock()
            throw StorageError(.closed, "the database is closed")
        }
        if self.options.readOnly && !writer.forceFlush {
            monitor.unlock()
            throw StorageError(.unsupported, "the database was opened read-only")
        }
        state.writers.append(writer)
        while !writer.done && state.writers.first !== writer { writer.wait() }
        if writer.done {
            monitor.unlock()
            if let e = writer.error { throw e }
            return
        }

        var failure: (any Error)?
        do {
            try makeRoomForWrite(force: writer.forceFlush)
        } catch {
            failure = error
        }
        if failure != nil || writer.forceFlush {
            state.writers.removeFirst()
            state.writers.first?.signal()
            if state.closing { backgroundChanged.broadcast() }
            monitor.unlock()
            if let failure { throw failure }
            return
        }

        let (group, last, sync) = buildGroup()
        var batch = group
        let first = versions.lastSequence + 1
        batch.sequence = first
        versions.lastSequence += SequenceNumber(batch.count)
        let lastSequence = versions.lastSequence
        let log = state.log
        let mem = state.mem
        monitor.unlock()
        do {
            guard let log else { throw StorageError(.closed, "no active log") }
            let record = batch.encoded
            try log.addRecord(record)
            // Hand the record to the OS: it then survives a crash of this process; a sync
            // group's fsync follows below, perhaps while the next leader appends.
            try log.flush()
            statistics.add(.walBytes, UInt64(record.count))
            var seq = first
            var bytes: UInt64 = 0
            batch.forEach { kind, key, value in
                mem.add(seq, kind, key, value)
                seq += 1
                bytes += UInt64(key.count + value.count)
            }
            statistics.add(.keysWritten, UInt64(batch.count))
            statistics.add(.bytesWritten, bytes)
            statistics.add(.writeGroups)
        } catch {
            failure = error
        }
        monitor.lock()
        if let failure {
            // The log's tail is unknown now: stop writing to it. Reopening recovers every
            // acknowledged write and cuts the torn tail.
            state.backgroundError =
                state.backgroundError ?? (failure as? StorageError)
                ?? StorageError(.io, "log write failed", cause: nil)
            finishGroup(through: last, failure: failure)
        } else if !sync && state.pendingGroups.isEmpty {
            // Nothing before it waits: done now, without queueing (every unsynced write).
            state.writtenSequence = lastSequence
            state.visibleSequence = lastSequence
            finishGroup(through: last, failure: nil)
        } else {
            state.writtenSequence = lastSequence
            let members = takeGroup(through: last)
            state.pendingWriters += members.count
            state.pendingGroups.append(PendingGroup(writers: members, lastSequence: lastSequence, sync: sync))
            if state.gatherTarget > 0 && state.pendingWriters >= state.gatherTarget {
                state.gatheringSyncer?.signal()
            }
            completePendingGroups()
            while !writer.done {
                if !state.syncRunning, let g = state.pendingGroups.first, g.sync {
                    syncLog(writer)
                } else {
                    writer.wait()
                }
            }
        }
        if state.closing { backgroundChanged.broadcast() }
        monitor.unlock()
        if let e = writer.error { throw e }
    }

    /// Joins the leader's batch with those queued behind it, up to about 1 MiB. A sync writer
    /// never joins a group that will not be synced. Returns the group, its last writer and
    /// whether it is synced. Caller holds the monitor.
    private func buildGroup() -> (WriteBatch, Writer, Bool) {
        let leader = state.writers[0]
        let size = leader.batch.byteSize
        let limit = size <= 128 << 10 ? size + (128 << 10) : 1 << 20
        // Taken out of the writer (nothing reads it after grouping), so the group's storage is
        // unshared and stamping its sequence does not copy it.
        var group = leader.batch
        leader.batch = Self.takenBatch
        var total = size
        var last = leader
        for w in state.writers.dropFirst() {
            if w.forceFlush || (w.sync && !leader.sync) { break }
            total += w.batch.byteSize
            if total > limit { break }
            group.append(w.batch)
            last = w
        }
        return (group, last, leader.sync)
    }

    /// Takes the leader's group off the head of the queue, so the next leader may start.
    /// Caller holds the monitor.
    private func takeGroup(through last: Writer) -> [Writer] {
        var members: [Writer] = []
        while let w = state.writers.first {
            state.writers.removeFirst()
            members.append(w)
            if w === last { break }
        }
        state.writers.first?.signal()
        return members
    }

    /// Takes the leader's group off the queue and wakes its writers, done (with `failure`, if
    /// any). Caller holds the monitor.
    private func finishGroup(through last: Writer, failure: (any Error)?) {
        while let w = state.writers.first {
            state.writers.removeFirst()
            w.error = failure
            w.done = true
            w.signal()
            if w === last { break }
        }
        state.writers.first?.signal()
    }

    /// Fsyncs the active log once for every group appended so far. Caller (`syncer`, a waiting
    /// group's leader) holds the monitor (released during the fsync), no fsync runs, and the
    /// first pending group needs one.
    private func syncLog(_ syncer: Writer) {
        state.syncRunning = true
        gatherBeforeSync(syncer)
        let target = state.writtenSequence
        let log = state.log
        monitor.unlock()
        let start = monotonicNanos()
        let result = Result { () throws -> Void in
            guard let log else { throw StorageError(.closed, "no active log") }
            try log.syncFlushed()
        }
        let syncNanos = monotonicNanos() - start
        statistics.add(.walSyncs)
        monitor.lock()
        switch result {
        case .success:
            state.syncedSequence = max(state.syncedSequence, target)
            let carried = completePendingGroups()
            // The writers in play: those this fsync carried (they come back soon) and those
            // already waiting for the next.
            state.syncPacer.record(writers: carried + state.pendingWriters, syncNanos: syncNanos)
        case .failure(let error):
            // After a failed fsync the file's durable contents are unknown, and a later fsync
            // may succeed without having written them: nothing waiting can be acknowledged.
            let failure = Self.storageError(error)
            state.backgroundError = state.backgroundError ?? failure
            failPendingGroups(failure)
        }
        endLogSync()
    }

    /// Before an fsync, waits briefly until as many writers wait for it as were in play at the
    /// last one (`SyncGroupPacer`): the writers the last fsync released are then back in this
    /// one instead of the next. Caller holds the monitor and has set `syncRunning`.
    private func gatherBeforeSync(_ syncer: Writer) {
        guard state.syncPacer.shouldWait(pending: state.pendingWriters) else { return }
        let target = state.syncPacer.expectedWriters
        let deadline = monotonicNanos() + state.syncPacer.maxWaitNanos
        state.gatherTarget = target
        state.gatheringSyncer = syncer
        while state.pendingWriters < target && !state.closing {
            let now = monotonicNanos()
            if now >= deadline { break }
            syncer.wait(nanoseconds: deadline - now)
        }
        state.gatherTarget = 0
        state.gatheringSyncer = nil
    }

    /// Ends an fsync (or a log switch): lets the next one start. Caller holds the monitor.
    func endLogSync() {
        state.syncRunning = false
        logSyncEnded.broadcast()
        // Groups appended during this fsync need the next: wake a leader to start it.
        if let g = state.pendingGroups.first { g.writers[0].signal() }
        if state.closing { backgroundChanged.broadcast() }
    }

    /// Acknowledges the pending groups at the front that are durable enough, in order, and
    /// makes their writes visible; returns how many writers that released. Caller holds the
    /// monitor.
    @discardableResult
    func completePendingGroups() -> Int {
        var released = 0
        while let g = state.pendingGroups.first, !g.sync || g.lastSequence <= state.syncedSequence {
            state.pendingGroups.removeFirst()
            state.pendingWriters -= g.writers.count
            released += g.writers.count
            state.visibleSequence = g.lastSequence
            for w in g.writers {
                w.done = true
                w.signal()
            }
        }
        return released
    }

    /// Fails every pending group (after a failed fsync or log switch). Caller holds the monitor.
    func failPendingGroups(_ failure: StorageError) {
        for g in state.pendingGroups {
            for w in g.writers {
                w.error = failure
                w.done = true
                w.signal()
            }
        }
        state.pendingGroups.removeAll()
        state.pendingWriters = 0
    }
}
