import OsmanthusBSON
import OsmanthusStorage

extension Database {
    /// Writes `changes` as one atomic engine batch: each document's new bytes (or its deletion)
    /// and everything the change implies. Every document write goes through here; callers hold
    /// the locks of the documents' keys and have already checked their conditions (absent key
    /// for an insert, filter still matching for an update or delete).
    func commit(_ changes: [DocumentChange]) throws {
        guard !changes.isEmpty else { return }
        var batch = WriteBatch()
        let logged = changeLog.append(changes, to: &batch)
        for change in changes {
            if let after = change.after {
                batch.put(change.key, after.bytes)
            } else {
                batch.delete(change.key)
            }
        }
        try storage.write(batch, options: writeOptions)
        changeLog.committed(logged, pool: pool)
    }
}
