import OsmanthusBSON
import OsmanthusStorage

/// Keeps secondary indexes in step with document writes: for each change it deletes the entries
/// of the document before and puts those of the document after, in the batch that writes the
/// document, and checks unique indexes under the striped locks of their keys (taken after the
/// callers' document locks, always in that order), so of two writers of one unique key exactly
/// one commits.
struct IndexMaintainer {
    let storage: DB
    let catalog: IndexCatalog
    let locks: KeyLocks

    /// A change the indexes refuse: which one, and why (DuplicateKey 11000, or 171).
    struct ChangeFailure: Error {
        let changeIndex: Int
        let error: OsmanthusError
    }

    private struct UniqueCheck {
        let changeIndex: Int
        let spec: IndexSpec
        let entry: IndexKeys.Entry
        let pk: ArraySlice<UInt8>
        let collection: CatalogEntry
    }

    /// Adds the index entries of `changes` to `batch` and runs `write` with it while holding the
    /// locks of the unique keys written. `only`: maintain just that index (a build's scan).
    ///
    /// The batch is handed on (`consuming`, `consume`), not shared: the engine stamps its
    /// sequence into it, which copied the whole batch while the caller still held it.
    func apply(_ changes: [DocumentChange], to batch: consuming WriteBatch, only: IndexSpec? = nil,
               write: (consuming WriteBatch) throws -> Void) throws {
        // One document of a collection without indexes (most writes): nothing to add or check.
        if only == nil, changes.count == 1, catalog.indexes(of: changes[0].entry.id).isEmpty {
            return try write(consume batch)
        }
        var specsByCollection: [UInt32: [IndexSpec]] = [:]
        var checks: [UniqueCheck] = []
        var removed = Set<[UInt8]>()
        var becameMultikey: [UInt32: IndexSpec] = [:]
        for (i, change) in changes.enumerated() {
            let cid = change.entry.id
            let specs = only.map { [$0] } ?? specsByCollection[cid] ?? {
                let s = catalog.indexes(of: cid)
                specsByCollection[cid] = s
                return s
            }()
            if specs.isEmpty { continue }
            let pk = change.key[change.entry.documentPrefix.count...]
            for spec in specs {
                do {
                    let old = try change.before.map { try IndexKeys.entries($0, pk: pk, spec: spec) } ?? (entries: [], multikey: false)
                    let new = try change.after.map { try IndexKeys.entries($0, pk: pk, spec: spec) } ?? (entries: [], multikey: false)
                    let oldKeys = Set(old.entries.map(\.key))
                    let newKeys = Set(new.entries.map(\.key))
                    for e in old.entries where !newKeys.contains(e.key) {
                        batch.delete(e.key)
                        removed.insert(e.key)
                    }
                    for e in new.entries where !oldKeys.contains(e.key) || only != nil {
                        batch.put(e.key, e.value)
                        if spec.unique { checks.append(UniqueCheck(changeIndex: i, spec: spec, entry: e, pk: pk, collection: change.entry)) }
                    }
                    if new.multikey && !spec.multikey && becameMultikey[spec.id] == nil {
                        var marked = spec
                        marked.multikey = true
                        becameMultikey[spec.id] = marked
                        batch.put(marked.catalogKey, marked.encode().bytes)
                    }
                } catch {
                    throw ChangeFailure(changeIndex: i, error: OsmanthusError.wrapping(error))
                }
            }
        }
        // The cached flag is set before the write is visible: a reader that sees the document
        // (its snapshot is taken before it plans) also sees the flag. A failed write leaves the
        // flag set in memory only, which merely disables optimizations until reopen.
        for spec in becameMultikey.values { catalog.markMultikey(spec) }
        if checks.isEmpty {
            try write(consume batch)
        } else {
            // Unique keys (rarer): the closure holds the batch too, so the stamp copies it.
            let held = consume batch
            try locks.withLocks(keys: checks.map { Array($0.entry.uniquePrefix) }) {
                try verify(checks, removed: removed)
                try write(held)
            }
        }
    }

    /// Fails on the first unique key another document holds (in the store, not removed by this
    /// batch, or claimed earlier in it).
    private func verify(_ checks: [UniqueCheck], removed: Set<[UInt8]>) throws {
        var claimed: [[UInt8]: ArraySlice<UInt8>] = [:]
        let it = storage.makeIterator()
        for check in checks {
            let prefix = Array(check.entry.uniquePrefix)
            if let other = claimed[prefix], other != check.pk { throw failure(check) }
            claimed[prefix] = check.pk
            it.seek(prefix)
            while it.isValid, it.key.starts(with: prefix) {
                let key = it.key
                if key[prefix.count...] != check.pk && !removed.contains(key) { throw failure(check) }
                it.next()
            }
            if let e = it.error { throw e }
        }
    }

    private func failure(_ check: UniqueCheck) -> ChangeFailure {
        ChangeFailure(changeIndex: check.changeIndex,
                      error: Self.duplicateKey(check.spec, check.entry.values, namespace: check.collection.namespace))
    }

    static func duplicateKey(_ spec: IndexSpec, _ values: [BSONValue], namespace: String) -> OsmanthusError {
        let value = Document(zip(spec.fields, values).map { ($0.path, $1) })
        return OsmanthusError(
            .duplicateKey,
            "E11000 duplicate key error collection: \(namespace) index: \(spec.name) dup key: \(value)",
            info: ["keyPattern": .document(spec.keyPattern), "keyValue": .document(value)])
    }
}
