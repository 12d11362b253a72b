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
        // Read in place (`all[i].…`): copying each change (its catalog entry, key and documents)
        // cost more than writing its record.
        let (batch, logged) = changes.withUnsafeBufferPointer { all -> (WriteBatch, ChangeLog.Appended) in
            // Sized up front: growing the batch as documents and change records are appended
            // copied it again and again. An insert's change record is its head alone (the
            // document is spliced from the put before it); other records may hold a document or two.
            let logging = changeLog.enabled
            var bytes = 0
            for i in all.indices {
                let doc = all[i].after?.byteCount ?? 0
                bytes += all[i].key.count + doc + 12
                if logging {
                    bytes += all[i].operation == .insert ? 160 : max(doc, all[i].before?.byteCount ?? 0) + 64
                }
            }
            var batch = WriteBatch(reservingCapacity: bytes)
            var logged = changeLog.startAppending()
            // Each document's write, then its change record (which may splice the document from it).
            for i in all.indices {
                if let after = all[i].after {
                    batch.put(all[i].key, after.bytes)
                } else {
                    batch.delete(all[i].key)
                }
                changeLog.append(all, i, to: &batch, &logged)
            }
            return (batch, logged)
        }
        try indexMaintainer.apply(changes, to: consume batch) { try storage.write($0, options: writeOptions) }
        changeLog.committed(logged, pool: pool)
    }
}
