import OsmanthusBSON
import OsmanthusStorage
import Synchronization

/// The durable list of secondary indexes, cached in memory by collection id. Records live in
/// their own key space (`IndexFormat.catalogSpace`); the cache is updated after each write.
final class IndexCatalog: Sendable {
    private let storage: DB
    // Guards the cached specs and the next index id.
    private let state: Mutex<State>
    /// Serializes index creation and drops end to end (I/O included).
    let changeLock = Mutex<Void>(())
    /// Bumped (under the state lock) by every change to the cached specs, multikey flags
    /// included, so `Collection`'s lookup cache knows when its plans' indexes are stale.
    let generation = Atomic<UInt64>(0)

    struct State {
        var byCollection: [UInt32: [IndexSpec]] = [:]
        var nextId: UInt32 = 1
    }

    init(storage: DB) throws {
        self.storage = storage
        var s = State()
        let it = storage.makeIterator()
        it.seek([IndexFormat.catalogSpace])
        while it.isValid, it.key.first == IndexFormat.catalogSpace {
            let spec = try IndexSpec(decoding: try Document(bytes: it.value))
            s.byCollection[spec.collectionId, default: []].append(spec)
            it.next()
        }
        if let e = it.error { throw OsmanthusError.wrapping(e) }
        if let raw = try storage.get(IndexFormat.nextIndexIdKey), raw.count == 4 {
            s.nextId = raw.loadFixed32(at: 0)
        }
        state = Mutex(s)
    }

    /// Every index of a collection (building ones included), in creation order.
    func indexes(of collectionId: UInt32) -> [IndexSpec] {
        state.withLock { $0.byCollection[collectionId] ?? [] }
    }

    var all: [IndexSpec] { state.withLock { $0.byCollection.values.flatMap { $0 } } }

    /// Records a new index (state building), giving it a fresh id.
    func add(_ spec: IndexSpec, sync: Bool) throws -> IndexSpec {
        var spec = spec
        spec.id = state.withLock { s -> UInt32 in
            defer { s.nextId += 1 }
            return s.nextId
        }
        var batch = WriteBatch()
        batch.put(spec.catalogKey, spec.encode().bytes)
        var next: [UInt8] = []
        next.appendFixed32(spec.id + 1)
        batch.put(IndexFormat.nextIndexIdKey, next)
        try storage.write(batch, options: WriteOptions(sync: sync))
        state.withLock {
            $0.byCollection[spec.collectionId, default: []].append(spec)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
        return spec
    }

    /// Marks a built index ready. The caller holds every document lock, so no commit is writing
    /// this record (a multikey flag) at the same time.
    /// `events` (change records) commit in the same batch.
    func markReady(_ spec: IndexSpec, sync: Bool, with events: WriteBatch = WriteBatch()) throws {
        guard var current = indexes(of: spec.collectionId).first(where: { $0.id == spec.id }) else { return }
        current.state = .ready
        var batch = WriteBatch()
        batch.put(current.catalogKey, current.encode().bytes)
        batch.append(events)
        try storage.write(batch, options: WriteOptions(sync: sync))
        state.withLock { s in
            if let i = s.byCollection[spec.collectionId]?.firstIndex(where: { $0.id == spec.id }) {
                s.byCollection[spec.collectionId]?[i] = current
            }
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Forgets an index; the caller purges its entries afterwards.
    func remove(_ spec: IndexSpec, sync: Bool, with events: WriteBatch = WriteBatch()) throws {
        var batch = WriteBatch()
        batch.delete(spec.catalogKey)
        batch.append(events)
        try storage.write(batch, options: WriteOptions(sync: sync))
        state.withLock {
            $0.byCollection[spec.collectionId]?.removeAll { $0.id == spec.id }
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
    }

    func stateMarkMultikey(_ collectionId: UInt32, _ id: UInt32) {
        state.withLock { s in
            if let i = s.byCollection[collectionId]?.firstIndex(where: { $0.id == id }) {
                s.byCollection[collectionId]?[i].multikey = true
            }
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Forgets every index of a dropped collection (records and cache).
    func removeAll(of collectionId: UInt32, sync: Bool) throws {
        for spec in indexes(of: collectionId) { try remove(spec, sync: sync) }
    }
}

extension IndexCatalog {
    /// Records in the cache that `spec` became multikey (its catalog record was written in the
    /// batch that made it so).
    func markMultikey(_ spec: IndexSpec) {
        stateMarkMultikey(spec.collectionId, spec.id)
    }
}
