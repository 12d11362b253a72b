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
        // copied it again and again. An insert's change record (no `before`) is its head alone:
        // the document is spliced from the put before it; other records may hold a document or two.
        var bytes = 0
        for change in changes {
            let doc = change.after?.byteCount ?? 0
            bytes += change.key.count + doc + 12
            if changeLog.enabled { bytes += change.before.map { max(doc, $0.byteCount) + 64 } ?? 160 }
        }
        var batch = WriteBatch(reservingCapacity: bytes)
        var logged = changeLog.startAppending()
        // Each document's write, then its change record (which may splice the document from it).
        // Read in place (`all[i].…`): copying each change cost more than writing its record.
        changes.withUnsafeBufferPointer { all in
            for i in all.indices {
                if let after = all[i].after {
                    batch.put(all[i].key, after.bytes)
                } else {
                    batch.delete(all[i].key)
                }
                changeLog.append(all, i, to: &batch, &logged)
            }
        }
        try indexMaintainer.apply(changes, to: consume batch) { try storage.write($0, options: writeOptions) }
        changeLog.committed(logged, pool: pool)
    }
}
