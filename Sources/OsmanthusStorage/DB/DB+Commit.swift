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
        /// The group's leader, and its other writers (none, and no array allocated, when the
        /// leader is alone: every group of writers that each sync alone).
        var leader: Writer
        var followers: [Writer]
        var lastSequence: SequenceNumber
        var sync: Bool
        var count: Int { 1 + followers.count }
    }

    /// Writers returned by their threads without the monitor (released by an fsync, see
    /// `Parker`), for the next commits.
    // `@unchecked Sendable`: `lock` guards `writers`. Taken alone, or inside the DB monitor,
    // never the other way round.
    final class ReleasedWriterPool: @unchecked Sendable {
        private let lock = Monitor()
        private var writers: [Writer] = []

        func put(_ writer: Writer) {
            lock.withLock { if writers.count < DB.idleWriterLimit { writers.append(writer) } }
        }

        func take() -> Writer? { lock.withLock { writers.popLast() } }
    }

    /// Commits a batch; a batch the caller is done with is logged without a copy.
    func commit(batch: consuming WriteBatch, sync: Bool) throws {
        try commit(batch: Optional(consume batch), single: nil, sync: sync, forceFlush: false)
    }

    /// Commits a single put or delete whose bytes are borrowed for the call.
    func commit(single: (kind: ValueKind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer), sync: Bool)
        throws
    {
        try commit(batch: nil, single: single, sync: sync, forceFlush: false)
    }

    /// Queues a pooled writer carrying the write, and commits it (`forceFlush`: a memtable
    /// switch for `flush()` instead of a write). `batch` nil: the writer keeps the placeholder
    /// every pooled writer holds (a single, or a forced flush), so it is neither set nor reset.
    func commit(
        batch: consuming WriteBatch?,
        single: (kind: ValueKind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)?,
        sync: Bool, forceFlush: Bool
    ) throws {
        monitor.lock()
        if state.closing || state.closed {
            monitor.unlock()
            throw StorageError(.closed, "the database is closed")
        }
        if self.options.readOnly && !forceFlush {
            monitor.unlock()
            throw StorageError(.unsupported, "the database was opened read-only")
        }
        let writer = state.idleWriters.popLast() ?? releasedWriters.take() ?? Writer(monitor: monitor)
        writer.ticket &+= 1
        writer.sync = sync
        writer.forceFlush = forceFlush
        writer.single = single
        let hasBatch = batch != nil
        // Moved out, not copied: the parameter would keep a second reference to the batch's
        // storage until this call returns, and stamping the sequence would then copy it.
        if let taken = batch.take() { writer.batch = taken }
        let (failure, released) = run(writer)
        // Nobody refers to the writer now (it left the queue and every group): back to the pool,
        // holding none of this write's bytes. Released (monitor not held): to the released pool.
        if hasBatch { writer.batch = WriteBatch.placeholder }
        writer.single = nil
        writer.error = nil
        writer.done = false
        // Writers an fsync of ours released: released once the monitor is free, so none wakes
        // only to block on it (see `syncLog`).
        let wakeFirst = writer.wakeFirst
        let wakeSecond = writer.wakeSecond
        writer.wakeFirst = nil
        writer.wakeSecond = nil
        if released {
            releasedWriters.put(writer)
        } else {
            if state.idleWriters.count < Self.idleWriterLimit { state.idleWriters.append(writer) }
            monitor.unlock()
        }
        if let w = wakeFirst { w.parker.release(ticket: w.ticket) }
        if let w = wakeSecond { w.parker.release(ticket: w.ticket) }
        if let failure { throw failure }
    }

    /// Enough for every thread of a busy server to find one.
    static let idleWriterLimit = 64

    /// Runs `writer` through the queue: as a follower until done, or as the leader of a group.
    /// Caller holds the monitor (released while writing and waiting); returns the failure, and
    /// whether the writer was released (`Parker`): it then returns without the monitor.
    private func run(_ writer: Writer) -> (failure: (any Error)?, released: Bool) {
        state.writers.append(writer)
        while !writer.done && state.writers.first !== writer {
            if writer.waitForRelease() { return (writer.error, true) }
        }
        if writer.done { return (writer.error, false) }

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
            return (failure, false)
        }

        var batch = WriteBatch.placeholder
        let (last, sync, ownBatch) = buildGroup(into: &batch)
        // A single put or delete alone in its group is logged from the caller's bytes, encoded
        // on the stack, and inserted from them: no batch is built for it, nor walked.
        let lone = last === writer ? writer.single : nil
        let first = versions.lastSequence + 1
        if lone == nil { batch.sequence = first }
        versions.lastSequence += lone == nil ? SequenceNumber(batch.count) : 1
        let lastSequence = versions.lastSequence
        let log = state.log
        let mem = state.mem
        state.leaderAppending = true
        monitor.unlock()
        do {
            guard let log else { throw StorageError(.closed, "no active log") }
            var bytes: UInt64 = 0
            if let single = lone {
                let size = WriteBatch.singleByteSize(
                    keyCount: single.key.count, valueCount: single.kind == .value ? single.value.count : nil)
                // Framed: room for the log's record header first, so the log appends it whole.
                let framed = LogFormat.headerSize + size
                try withUnsafeTemporaryAllocation(byteCount: framed, alignment: 8) { buffer in
                    guard let base = buffer.baseAddress else { preconditionFailure("a temporary allocation has an address") }
                    _ = WriteBatch.encodeSingle(
                        sequence: first, kind: single.kind, key: single.key, value: single.value,
                        to: base + LogFormat.headerSize)
                    try log.addRecord(framed: UnsafeMutableRawBufferPointer(start: base, count: framed))
                }
                statistics.add(.walBytes, UInt64(size))
            } else {
                try log.addRecord(batch.encoded)
                statistics.add(.walBytes, UInt64(batch.byteSize))
            }
            // Hand the record to the OS: it then survives a crash of this process. A sync group
            // is acknowledged only after its fsync, so its record may wait in the log's buffer
            // for the syncer, who hands every group appended by then to the OS in one write
            // before that fsync (`syncLog`), instead of one write per group.
            if !sync { try log.flush() }
            if let single = lone {
                let value = single.kind == .value ? single.value : UnsafeRawBufferPointer(rebasing: single.value[0..<0])
                mem.insert(first, single.kind, single.key, value)
                bytes = UInt64(single.key.count + value.count)
            } else if batch.hasSplicedRecords {
                bytes = mem.insert(batch, sequence: first)
            } else {
                // Record by record, as `MemTable.insert(_:sequence:)` does without a spliced record.
                var seq = first
                batch.forEachRawMarkingStamped { kind, key, _, value, stamped in
                    mem.insert(seq, kind, key, value, ascending: stamped)
                    seq += 1
                    bytes += UInt64(key.count + value.count)
                }
            }
            statistics.add(.keysWritten, lone == nil ? UInt64(batch.count) : 1)
            statistics.add(.bytesWritten, bytes)
            statistics.add(.writeGroups)
        } catch {
            failure = error
        }
        monitor.lock()
        state.leaderAppending = false
        state.flushWaiter?.signal()
        // The reusable record goes back before the next leader can start (it starts only once
        // this group leaves the queue, below); one grown huge by a big write is dropped.
        if !ownBatch && batch.capacity <= Self.groupBatchKeepLimit { swap(&state.groupBatch, &batch) }
        if let failure {
            // The log's tail is unknown now: stop writing to it. Reopening recovers every
            // acknowledged write and cuts the torn tail.
            let stop =
                state.backgroundError ?? (failure as? StorageError)
                ?? StorageError(.io, "log write failed", cause: nil)
            state.backgroundError = stop
            finishGroup(through: last, failure: failure)
            // Sync groups before this one may have had their records in the log's buffer, which
            // the failed write dropped: none of them can be acknowledged now.
            failPendingGroups(stop)
        } else if !sync && state.pendingGroups.isEmpty {
            // Nothing before it waits: done now, without queueing (every unsynced write).
            state.writtenSequence = lastSequence
            state.visibleSequence = lastSequence
            finishGroup(through: last, failure: nil)
        } else {
            state.writtenSequence = lastSequence
            let followers = takeGroup(through: last)
            state.pendingWriters += 1 + followers.count
            state.pendingGroups.append(
                PendingGroup(leader: writer, followers: followers, lastSequence: lastSequence, sync: sync))
            let completesGather = state.gatherTarget > 0 && state.pendingWriters >= state.gatherTarget
            completePendingGroups()
            if completesGather, !writer.done, state.gatheringSyncer != nil {
                // This writer completes the gathering syncer's wait: it runs that fsync itself,
                // at once, instead of waking the gatherer to run it (a wake-up on the path from
                // one fsync to the next). The gatherer is not woken: at its wait's deadline, or
                // when its group is done, it finds itself relieved (`gatherBeforeSync`).
                endGather(handedOver: true)
                syncGathered(writer)
            } else if completesGather {
                state.gatheringSyncer?.signal()
            }
            while !writer.done {
                if !state.syncRunning, let g = state.pendingGroups.first, g.sync {
                    syncLog(writer)
                } else if writer.waitForRelease() {
                    // Done, and the monitor is not ours: whoever completed the group made its
                    // writes visible and, if closing, tells `close` (`endLogSync`, `run`).
                    return (writer.error, true)
                }
            }
        }
        if state.closing { backgroundChanged.broadcast() }
        return (writer.error, false)
    }

    /// The reusable group record is kept up to this capacity.
    private static let groupBatchKeepLimit = 4 << 20

    /// Joins the leader's write with those queued behind it, up to about 1 MiB. A sync writer
    /// never joins a group that will not be synced. Sets `record` to the group's log record and
    /// returns its last writer, whether it is synced, and whether the record is not the reusable
    /// `state.groupBatch`, taken out here: a lone batch is logged as it is, without a copy, and a
    /// lone single from its own bytes (`record` is left as it was). Caller holds the monitor.
    private func buildGroup(into record: inout WriteBatch) -> (Writer, Bool, Bool) {
        let leader = state.writers[0]
        let size = leader.byteSize
        let limit = size <= 128 << 10 ? size + (128 << 10) : 1 << 20
        var total = size
        var members = 1
        for w in state.writers.dropFirst() {
            if w.forceFlush || (w.sync && !leader.sync) { break }
            total += w.byteSize
            if total > limit { break }
            members += 1
        }
        let last = state.writers[members - 1]
        // Alone, a single is logged from its own bytes (`run`): no record to build.
        if members == 1 && leader.single != nil { return (last, leader.sync, true) }
        if members == 1 {
            // Taken out of the writer (nothing reads it after grouping), so the record's storage
            // is unshared and stamping its sequence does not copy it.
            record = leader.batch
            leader.batch = WriteBatch.placeholder
            return (last, leader.sync, true)
        }
        swap(&record, &state.groupBatch)
        record.clear()
        for w in state.writers[0..<members] {
            if let single = w.single {
                if single.kind == .value {
                    record.put(bytes: single.key, single.value)
                } else {
                    record.delete(bytes: single.key)
                }
            } else {
                record.append(w.batch)
                w.batch = WriteBatch.placeholder
            }
        }
        return (last, leader.sync, false)
    }

    /// Takes the leader's group off the head of the queue, so the next leader may start;
    /// returns the writers after the leader. Caller holds the monitor.
    private func takeGroup(through last: Writer) -> [Writer] {
        var followers: [Writer] = []
        let leader = state.writers.removeFirst()
        if leader !== last {
            while let w = state.writers.first {
                state.writers.removeFirst()
                followers.append(w)
                if w === last { break }
            }
        }
        state.writers.first?.signal()
        return followers
    }

    /// Takes the leader's group off the queue and wakes its writers, done (with `failure`, if
    /// any). Caller holds the monitor.
    private func finishGroup(through last: Writer, failure: (any Error)?) {
        if state.writers.count == 1 {
            // The leader alone (every write of a lone writer): nobody waits behind it.
            // It is the running leader, not waiting: nothing to release.
            let w = state.writers.removeLast()
            w.error = failure
            w.done = true
            return
        }
        while let w = state.writers.first {
            state.writers.removeFirst()
            w.finish(error: failure)
            if w === last { break }
        }
        state.writers.first?.signal()
    }

    /// Fsyncs the active log once for every group appended so far. Caller (`syncer`, a waiting
    /// group's leader) holds the monitor (released during the fsync), no fsync runs, and the
    /// first pending group needs one.
    private func syncLog(_ syncer: Writer) {
        state.syncRunning = true
        // Handed over: the writer that completed the gathering runs this fsync.
        guard gatherBeforeSync(syncer) else { return }
        syncGathered(syncer)
    }

    /// `syncLog` once its writers are gathered, by its syncer or by the writer that completed
    /// the gathering. Caller holds the monitor and `syncRunning` is set for this fsync.
    private func syncGathered(_ syncer: Writer) {
        // The log's buffer belongs to the appending leader, if one is appending: wait for it.
        while state.leaderAppending {
            state.flushWaiter = syncer
            syncer.wait()
        }
        state.flushWaiter = nil
        if let stop = state.backgroundError {
            // A log write failed (perhaps dropping buffered records): acknowledge nothing more.
            failPendingGroups(stop)
            endLogSync()
            return
        }
        let target = state.writtenSequence
        let log = state.log
        // Sync groups' records wait in the buffer (see `run`): hand them all to the OS now, in
        // one write. Under the monitor, so no leader starts appending meanwhile; `target` is
        // then in the OS, and the fsync below covers it.
        let flushed = Result { () throws -> Void in
            guard let log else { throw StorageError(.closed, "no active log") }
            try log.flush()
        }
        monitor.unlock()
        let start = monotonicNanos()
        let result = flushed.flatMap {
            Result { () throws -> Void in
                guard let log else { throw StorageError(.closed, "no active log") }
                try log.syncFlushed()
            }
        }
        let syncNanos = monotonicNanos() - start
        statistics.add(.walSyncs)
        statistics.add(.walSyncMicros, syncNanos / 1000)
        monitor.lock()
        switch result {
        case .success:
            state.syncedSequence = max(state.syncedSequence, target)
            // The syncer wakes the writers this fsync released after it unlocks (`commit`):
            // signalled under the monitor, each would wake only to wait for it.
            let carried = completePendingGroups(deferringWakeupsTo: syncer)
            statistics.add(.walSyncedWriters, UInt64(carried))
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
    /// one instead of the next. Returns whether `syncer` is to run the fsync: false when the
    /// writer whose group completed the wait took it over (`run`), leaving `syncRunning` set
    /// for it. Caller holds the monitor and has set `syncRunning`.
    private func gatherBeforeSync(_ syncer: Writer) -> Bool {
        guard state.syncPacer.shouldWait(pending: state.pendingWriters) else { return true }
        let target = state.syncPacer.expectedWriters
        let start = monotonicNanos()
        let deadline = start + state.syncPacer.maxWaitNanos
        state.gatherTarget = target
        state.gatheringSyncer = syncer
        state.gatherStartNanos = start
        while state.gatheringSyncer === syncer && state.pendingWriters < target && !state.closing {
            let now = monotonicNanos()
            if now >= deadline { break }
            syncer.wait(nanoseconds: deadline - now)
        }
        // Taken over: `run` ended the gathering and runs the fsync.
        guard state.gatheringSyncer === syncer else { return false }
        endGather(handedOver: false)
        return true
    }

    /// Ends the current gathering wait (counted from its start). Caller holds the monitor.
    private func endGather(handedOver: Bool) {
        state.gatherTarget = 0
        state.gatheringSyncer = nil
        statistics.add(.walSyncGathers)
        statistics.add(.walSyncGatherMicros, (monotonicNanos() - state.gatherStartNanos) / 1000)
        if handedOver { statistics.add(.walSyncHandOffs) }
    }

    /// Ends an fsync (or a log switch): lets the next one start. Caller holds the monitor.
    func endLogSync() {
        state.syncRunning = false
        logSyncEnded.broadcast()
        // Groups appended during this fsync need the next: wake a leader to start it.
        if let g = state.pendingGroups.first { g.leader.signal() }
        if state.closing { backgroundChanged.broadcast() }
    }

    /// Acknowledges the pending groups at the front that are durable enough, in order, and
    /// makes their writes visible; returns how many writers that released. Caller holds the
    /// monitor.
    /// With `deferringWakeupsTo`, the released writers other than that one are marked done here
    /// but not released: they are listed in its `wakeFirst`/`wakeSecond` (or a released writer's), to
    /// be released once the monitor is free (`commit`). A release names the writer's ticket, so
    /// a late one never ends a later write's wait (`Parker`).
    @discardableResult
    func completePendingGroups(deferringWakeupsTo waker: Writer? = nil) -> Int {
        var released = 0
        // Reused (its capacity kept): this runs under the monitor right after each fsync, on
        // the path of every writer it releases.
        var woken: [Writer] = []
        swap(&woken, &state.wokenScratch)
        while let g = state.pendingGroups.first, !g.sync || g.lastSequence <= state.syncedSequence {
            state.pendingGroups.removeFirst()
            state.pendingWriters -= g.count
            released += g.count
            state.visibleSequence = g.lastSequence
            for i in -1..<g.followers.count {
                let w = i < 0 ? g.leader : g.followers[i]
                if waker != nil {
                    w.done = true
                    if w !== waker { woken.append(w) }
                } else {
                    w.finish(error: nil)
                }
            }
        }
        // The releases fan out as a binary tree: the waker releases two writers, and each
        // released writer, on its way out of `commit`, two more (woken[i] releases woken[2i+2]
        // and woken[2i+3]), so they run on every core instead of one after another on one.
        // A writer that is not waiting is still a parent: it passes through `commit` anyway.
        if let waker {
            for (i, w) in woken.enumerated() {
                let parent = i < 2 ? waker : woken[(i - 2) / 2]
                parent.addWake(w.parker, w.ticket)
            }
        }
        woken.removeAll(keepingCapacity: true)
        swap(&woken, &state.wokenScratch)
        return released
    }

    /// Fails every pending group (after a failed fsync or log switch). Caller holds the monitor.
    func failPendingGroups(_ failure: StorageError) {
        for g in state.pendingGroups {
            g.leader.finish(error: failure)
            for w in g.followers { w.finish(error: failure) }
        }
        state.pendingGroups.removeAll()
        state.pendingWriters = 0
    }
}
