import OsmanthusBSON
import OsmanthusStorage

extension Database {
    /// Writes `changes` as one atomic engine batch: each document's new bytes (or its deletion)
    /// and everything the change implies. Every document write goes through here; callers hold
    /// the locks of the documents' keys and have already checked their conditions (absent key
    /// for an insert, filter still matching for an update or delete).
    func commit(_ changes: [DocumentChange]) throws {
        do { try commitReportingFailure(changes) } catch let f as IndexMaintainer.ChangeFailure { throw f.error }
    }

    /// As `commit`, but an index's refusal (DuplicateKey, parallel arrays) is thrown as
    /// `IndexMaintainer.ChangeFailure` naming the change, so a batch insert can report it per
    /// document. Nothing is written then.
    func commitReportingFailure(_ changes: [DocumentChange]) throws {
        guard !changes.isEmpty else { return }
        // Sized up front: growing the batch as documents and change records are appended
        // copied it again and again (a change record holds the document a second time).
        var bytes = 0
        for change in changes {
            let doc = change.after?.byteCount ?? 0
            bytes += change.key.count + doc + 12
            if changeLog.enabled { bytes += max(doc, change.before?.byteCount ?? 0) + 64 }
        }
        var batch = WriteBatch(reservingCapacity: bytes)
        let logged = changeLog.append(changes, to: &batch)
        for change in changes {
            if let after = change.after {
                batch.put(change.key, after.bytes)
            } else {
                batch.delete(change.key)
            }
        }
        try indexMaintainer.apply(changes, to: consume batch) { try storage.write($0, options: writeOptions) }
        changeLog.committed(logged, pool: pool)
    }
}
