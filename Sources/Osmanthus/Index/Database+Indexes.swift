import OsmanthusBSON
import OsmanthusStorage

/// Building, dropping and cleaning up secondary indexes (SPEC.md §11.5).
extension Database {
    static let indexBuildBatch = 256

    /// Fills a registered (building) index from the documents already stored, then marks it
    /// ready. Each batch of documents is re-read and indexed under the documents' locks, so a
    /// concurrent write of one of them is either before (and re-read here) or after (and
    /// maintained by its commit). A unique conflict drops the index and throws DuplicateKey.
    func buildIndex(_ spec: IndexSpec, of entry: CatalogEntry) throws {
        do {
            let prefix = entry.documentPrefix
            var from = prefix
            while true {
                let it = storage.makeIterator(options: ReadOptions(fillCache: false))
                it.seek(from)
                var keys: [[UInt8]] = []
                while it.isValid, it.key.starts(with: prefix), keys.count < Self.indexBuildBatch {
                    keys.append(it.key)
                    it.next()
                }
                if let e = it.error { throw e }
                guard let last = keys.last else { break }
                try locks.withLocks(keys: keys) {
                    guard let current = indexCatalog.indexes(of: spec.collectionId).first(where: { $0.id == spec.id })
                    else { throw OsmanthusError(.indexNotFound, "index \(spec.name) was dropped while building") }
                    var changes: [DocumentChange] = []
                    for key in keys {
                        guard let raw = try storage.get(key) else { continue }
                        changes.append(.insert(try Document(bytes: raw), key: key, in: entry))
                    }
                    try indexMaintainer.apply(changes, to: WriteBatch(), only: current) { try storage.write($0) }
                }
                from = last + [0]
                if keys.count < Self.indexBuildBatch { break }
            }
            // The createIndexes change record commits with the ready mark: a build that fails
            // leaves no record, and a replay (point-in-time restore) builds it at this point.
            var event = WriteBatch()
            let logged = changeLog.append(
                ChangeRecord.indexes(.createIndexes, [spec], of: entry, wallMillis: changeLog.wallMillis()), to: &event)
            try locks.withAllLocks { try indexCatalog.markReady(spec, sync: options.syncWrites, with: event) }
            changeLog.committed(logged, pool: pool)
        } catch {
            try? dropIndex(spec)
            if let f = error as? IndexMaintainer.ChangeFailure { throw f.error }
            throw error
        }
    }

    /// Removes an index's record (under every document lock, so no commit is writing its
    /// entries), then its entries.
    /// With `entry` (a user's dropIndex), a dropIndexes change record commits with the removal.
    func dropIndex(_ spec: IndexSpec, recordingIn entry: CatalogEntry? = nil) throws {
        var event = WriteBatch()
        var logged = ChangeLog.Appended()
        if let entry {
            logged = changeLog.append(
                ChangeRecord.indexes(.dropIndexes, [spec], of: entry, wallMillis: changeLog.wallMillis()), to: &event)
        }
        try locks.withAllLocks { try indexCatalog.remove(spec, sync: options.syncWrites, with: event) }
        changeLog.committed(logged, pool: pool)
        try purge(prefix: spec.entryPrefix)
    }

    /// At open: restarts builds a crash interrupted (from scratch; until ready no query uses them).
    func restartInterruptedBuilds() throws {
        for spec in indexCatalog.all where spec.state == .building {
            guard let entry = catalog.all.first(where: { $0.id == spec.collectionId }) else {
                try dropIndex(spec)
                continue
            }
            try purge(prefix: spec.entryPrefix)
            try buildIndex(spec, of: entry)
        }
    }

    /// Index records of dropped collections, and entries of indexes no record names (a drop
    /// interrupted by a crash).
    func purgeOrphanIndexes(liveCollections: Set<UInt32>) throws {
        for spec in indexCatalog.all where !liveCollections.contains(spec.collectionId) {
            try indexCatalog.remove(spec, sync: false)
        }
        let live = Set(indexCatalog.all.map { $0.entryPrefix })
        let it = storage.makeIterator(options: ReadOptions(fillCache: false))
        var from: [UInt8] = [IndexFormat.entrySpace]
        while true {
            it.seek(from)
            guard it.isValid, it.key.first == IndexFormat.entrySpace, it.key.count >= 9 else { break }
            let prefix = Array(it.key[0..<9])
            if !live.contains(prefix) { try purge(prefix: prefix) }
            from = IndexFormat.prefixEnd(prefix)
            if from.isEmpty { break }
        }
        if let e = it.error { throw e }
    }
}
