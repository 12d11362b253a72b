import OsmanthusBSON
import OsmanthusStorage
import Synchronization

/// A collection of BSON documents answering MongoDB's queries and updates.
///
/// Every write of one document (and, later, its index entries and change record) is one atomic
/// engine batch. Conditional writes (insert if absent, update or delete only if the filter still
/// matches) hold the striped locks of the keys they touch from the read to the write.
public final class Collection: Sendable {
    let database: Database
    public let databaseName: String
    public let name: String
    /// The catalog entry as last looked up, with the catalog generation it was read at (every
    /// operation needs it; a DDL change bumps the generation and the next call reads it again).
    /// A class, so reading it under the lock is one retain (a tuple holding the entry was copied
    /// field by field through generic value witnesses on every operation).
    private let cachedEntry = Mutex<CachedEntry?>(nil)

    final class CachedEntry: Sendable {
        let generation: UInt64
        let entry: CatalogEntry?
        /// The collection id when the collection exists and is keyed by `_id` alone: what a
        /// point read needs, without copying the entry out.
        let idKeyedCollection: UInt32?
        init(generation: UInt64, entry: CatalogEntry?) {
            self.generation = generation
            self.entry = entry
            self.idKeyedCollection = entry.flatMap { $0.options.partitionKey == nil ? $0.id : nil }
        }
    }

    /// The entry and ready indexes a read last looked up, tagged with both catalogs'
    /// generations then: queries skip the lookups until a catalog change bumps one.
    private let lookup = Mutex<CatalogLookup?>(nil)

    /// A class for the same reason as `CachedEntry`: reading it is one retain.
    final class CatalogLookup: Sendable {
        let catalogGeneration: UInt64
        let indexGeneration: UInt64
        let entry: CatalogEntry
        let readyIndexes: [IndexSpec]
        init(catalogGeneration: UInt64, indexGeneration: UInt64, entry: CatalogEntry, readyIndexes: [IndexSpec]) {
            self.catalogGeneration = catalogGeneration
            self.indexGeneration = indexGeneration
            self.entry = entry
            self.readyIndexes = readyIndexes
        }
    }

    init(database: Database, databaseName: String, name: String) {
        self.database = database
        self.databaseName = databaseName
        self.name = name
    }

    /// The catalog entry and its ready indexes, from the cache while neither catalog changed.
    /// The generations are read before the catalogs, so a cached pair is never older than its
    /// tags (a change between the two reads only makes the next query look again).
    func readState() -> (entry: CatalogEntry, readyIndexes: [IndexSpec])? {
        let cg = database.catalog.generation
        let ig = database.indexCatalog.generation.load(ordering: .sequentiallyConsistent)
        if let c = lookup.withLock({ $0 }), c.catalogGeneration == cg, c.indexGeneration == ig {
            return (c.entry, c.readyIndexes)
        }
        guard let entry else { return nil }
        let ready = database.indexCatalog.indexes(of: entry.id).filter { $0.state == .ready }
        let made = CatalogLookup(catalogGeneration: cg, indexGeneration: ig, entry: entry, readyIndexes: ready)
        lookup.withLock { $0 = made }
        return (entry, ready)
    }

    public var namespace: String { databaseName + "." + name }

    var entry: CatalogEntry? { currentEntry.entry }

    /// The entry as cached, looked up again after a catalog change.
    var currentEntry: CachedEntry {
        let catalog = database.catalog
        let current = catalog.generation
        if let cached = cachedEntry.withLock({ $0 }), cached.generation == current { return cached }
        let (entry, generation) = catalog.entryAndGeneration(databaseName, name)
        let made = CachedEntry(generation: generation, entry: entry)
        cachedEntry.withLock { $0 = made }
        return made
    }

    func ensureEntry() throws -> CatalogEntry {
        if let entry { return entry }
        return try database.ensureCollection(databaseName, name, options: CollectionOptions())
    }

    var storage: DB { database.storage }

    /// Bytes of stored documents (keys and values, uncompressed).
    func approximateSize() throws -> Int64 {
        guard let entry else { return 0 }
        let it = storage.makeIterator(options: ReadOptions(fillCache: false))
        var size: Int64 = 0
        it.seek(entry.documentPrefix)
        while it.isValid, it.key.starts(with: entry.documentPrefix) {
            size += Int64(it.key.count + it.value.count)
            it.next()
        }
        return size
    }

    // MARK: Insert

    /// Inserts a document, giving it an ObjectId `_id` when it has none. DuplicateKey (11000)
    /// when a document with the same primary key exists.
    @discardableResult
    public func insertOne(_ doc: Document) throws -> BSONValue {
        try wrapping {
            let entry = try ensureEntry()
            let (prepared, id) = try Self.prepareForInsertWithId(doc)
            // `_id` decoded once: the key of an `_id` collection is built from it directly.
            let key =
                entry.options.partitionKey == nil
                ? PrimaryKey.key(id: id, in: entry) : try PrimaryKey.key(for: prepared, in: entry)
            try database.locks.withLock(key: key) {
                if try storage.get(key) != nil { throw duplicateKey(prepared, entry) }
                try database.commit([.insert(prepared, key: key, in: entry)])
            }
            return id
        }
    }

    /// Inserts documents in one atomic batch per run of valid documents. Ordered: stops at the
    /// first error (the documents before it are written). Unordered: skips failing documents.
    @discardableResult
    public func insertMany(_ docs: [Document], ordered: Bool = true) throws -> InsertManyResult {
        try wrapping {
            let entry = try ensureEntry()
            var result = InsertManyResult()
            var prepared: [(Int, Document, [UInt8], BSONValue)] = []
            prepared.reserveCapacity(docs.count)
            let byId = entry.options.partitionKey == nil
            for (i, doc) in docs.enumerated() {
                do {
                    let (p, id) = try Self.prepareForInsertWithId(doc)
                    prepared.append((i, p, byId ? PrimaryKey.key(id: id, in: entry) : try PrimaryKey.key(for: p, in: entry), id))
                } catch {
                    result.errors.append((i, OsmanthusError.wrapping(error)))
                    if ordered { break }
                }
            }
            let firstError = result.errors.first?.index ?? Int.max
            try database.locks.withLocks(keys: prepared.map(\.2)) {
                var changes: [DocumentChange] = []
                var changeDocs: [Int] = []
                var seen = Set<[UInt8]>()
                for (i, doc, key, id) in prepared where i < firstError {
                    let exists = try seen.contains(key) || storage.get(key) != nil
                    if exists {
                        result.errors.append((i, duplicateKey(doc, entry)))
                        if ordered { break }
                        continue
                    }
                    seen.insert(key)
                    changes.append(.insert(doc, key: key, in: entry))
                    changeDocs.append(i)
                    result.insertedIds[i] = id
                }
                try commitInsertions(changes, docs: changeDocs, ordered: ordered, &result)
            }
            result.errors.sort { $0.index < $1.index }
            return result
        }
    }

    /// `_id` first (generated if missing), size within limits.
    static func prepareForInsert(_ doc: Document) throws -> Document {
        try prepareForInsertWithId(doc).document
    }

    /// As `prepareForInsert`, with the document's `_id` (checked as a key value).
    static func prepareForInsertWithId(_ doc: Document) throws -> (document: Document, id: BSONValue) {
        // Already `_id` first and only once (the usual case): keep the document, no rebuild.
        if doc.hasLeadingUniqueField("_id"), let id = doc["_id"] {
            try PrimaryKey.checkKeyValue(id, field: "_id")
            try checkSize(doc)
            return (doc, id)
        }
        var out = Document()
        let id = doc["_id"] ?? .objectId(ObjectId())
        try PrimaryKey.checkKeyValue(id, field: "_id")
        out.append("_id", id)
        for (k, v) in doc where k != "_id" { out.append(k, v) }
        try checkSize(out)
        return (out, id)
    }

    static func checkSize(_ doc: Document) throws {
        if doc.byteCount > BSONLimits.maxDocumentSize {
            throw OsmanthusError(
                .bsonObjectTooLarge, "object to insert too large: \(doc.byteCount) bytes, max \(BSONLimits.maxDocumentSize)")
        }
    }

    func duplicateKey(_ doc: Document, _ entry: CatalogEntry) -> OsmanthusError {
        let fields = entry.options.partitionKey.map { [$0] + (entry.options.sortKey.map { [$0] } ?? []) } ?? ["_id"]
        var pattern = Document()
        var value = Document()
        for f in fields {
            pattern.append(f, .int32(1))
            value.append(f, doc[f] ?? .null)
        }
        let indexName = fields.map { "\($0)_1" }.joined(separator: "_")
        return OsmanthusError(
            .duplicateKey,
            "E11000 duplicate key error collection: \(namespace) index: \(fields == ["_id"] ? "_id_" : indexName) dup key: \(value)",
            info: ["keyPattern": .document(pattern), "keyValue": .document(value)])
    }

    // MARK: Reads

    /// Documents matching `filter`, as a cursor over a consistent snapshot.
    public func find(_ filter: Document = [:], options: FindOptions = FindOptions()) throws -> Cursor {
        let cursor = try makeCursor(filter, options: options)
        cursor.pool = database.pool
        return cursor
    }

    private func makeCursor(_ filter: Document, options: FindOptions) throws -> Cursor {
        try wrapping {
            if let cursor = try idRangeCursor(filter, options: options) { return cursor }
            let parsed = try Filter(filter)
            let projection = try options.projection.map { try Projection($0) }
            guard let state = readState() else {
                return Cursor(source: .documents([], index: 0), filter: nil, projection: nil, skip: 0, limit: 0)
            }
            let (entry, readyIndexes) = state
            let sortSpec = try options.sort.map { try SortSpec($0) }
            // The read view comes first: an index's multikey flag is set before any write that
            // makes it so is visible, so the plan is valid for everything the view holds.
            let view = storage.readView()
            let planner = QueryPlanner(entry: entry, indexes: readyIndexes)
            func makePlan() throws -> QueryPlan {
                var plan = try planner.plan(
                    parsed, sort: sortSpec, projection: options.projection, hint: options.hint, collection: self)
                // An in-memory sort needs whole documents.
                if let sortSpec, !sortSpec.isEmpty, !plan.providesSort, case .index(var p) = plan.kind, p.covered {
                    p.covered = false
                    plan.kind = .index(p)
                }
                return plan
            }
            var plan = try makePlan()
            // A cached plan is checked against its trial's works (and re-planned if far worse).
            let sorted = sortSpec.map { !$0.isEmpty } ?? false
            let scan = try indexScan(
                &plan, filter: parsed, entry: entry, view: view,
                target: Self.trialTarget(plan, sorted: sorted, skip: options.skip, limit: options.limit),
                replan: makePlan)
            if let sortSpec, let sortDocument = options.sort, !sortSpec.isEmpty, !plan.providesSort {
                // An in-memory sort within the memory limit; with a limit only the first
                // skip + limit documents are kept (a bounded top-k).
                var sort = SortStage(spec: sortSpec, document: sortDocument)
                let (needed, overflow) = options.skip.addingReportingOverflow(options.limit)
                if options.limit > 0 && !overflow { sort.limit = needed }
                let unsorted = try cursor(
                    parsed, entry, plan: plan, scan: scan, view: view, projection: nil, skip: 0, limit: 0)
                let docs = try sort.run(DocumentStream(unsorted), memoryLimit: options.memoryLimit)
                return Cursor(
                    source: .documents(docs, index: 0), filter: nil, projection: projection, skip: options.skip,
                    limit: options.limit)
            }
            return try cursor(
                parsed, entry, plan: plan, scan: scan, view: view, projection: projection, skip: options.skip,
                limit: options.limit)
        }
    }

    func planner(_ entry: CatalogEntry) -> QueryPlanner {
        QueryPlanner(entry: entry, indexes: database.indexCatalog.indexes(of: entry.id).filter { $0.state == .ready })
    }

    public func findOne(_ filter: Document = [:], options: FindOptions = FindOptions()) throws -> Document? {
        if options.projection == nil, options.sort == nil, options.skip == 0, let id = Self.idEqualityValue(filter) {
            return try findOne(byId: id)
        }
        var o = options
        o.limit = 1
        return try find(filter, options: o).next()
    }

    public func count(_ filter: Document = [:], skip: Int = 0, limit: Int = 0) throws -> Int {
        // Asking only for the filter's fields lets an index that holds them answer without
        // reading documents (a covered plan); the count is the same.
        // Parsed once, for the projection and the plan.
        let parsed = try wrapping { try Filter(filter) }
        let projection = Self.countProjection(parsed)
        if let state = readState(),
            let n = try countThroughIndex(parsed, state.entry, state.readyIndexes, projection: projection)
        {
            return min(max(0, n - skip), limit > 0 ? limit : Int.max)
        }
        let c = try find(filter, options: FindOptions(skip: skip, limit: limit))
        var n = 0
        while try c.next() != nil { n += 1 }
        return n
    }

    /// Counts matches along an index plan without building results (no projection, no cursor);
    /// nil when the planner picks no index.
    private func countThroughIndex(_ parsed: Filter, _ entry: CatalogEntry, _ readyIndexes: [IndexSpec],
                                   projection: Document?) throws -> Int? {
        try wrapping {
            let view = storage.readView()
            let planner = QueryPlanner(entry: entry, indexes: readyIndexes)
            func makePlan() throws -> QueryPlan {
                try planner.plan(parsed, sort: nil, projection: projection, hint: nil, collection: self)
            }
            var plan = try makePlan()
            let target = Self.trialTarget(plan, sorted: false, skip: 0, limit: 0)
            guard let scan = try indexScan(&plan, filter: parsed, entry: entry, view: view, target: target,
                                           forCount: true, replan: makePlan)
            else { return nil }
            return try scan.count()
        }
    }

    /// `{_id: 0, <each path the filter reads>: 1}`, or nil when paths nest (a projection may not
    /// name both `a` and `a.b`) or the filter evaluates expressions.
    static func countProjection(_ filter: Filter) -> Document? {
        guard !filter.spec.isEmpty, let paths = QueryPlanner.leafPaths(filter.root) else { return nil }
        let distinct = Array(Set(paths)).sorted()
        for p in distinct where p.isEmpty || p == "_id" || p.hasPrefix("$") || distinct.contains(where: { $0.hasPrefix(p + ".") }) {
            return nil
        }
        var projection: Document = ["_id": .int32(0)]
        for p in distinct { projection.append(p, .int32(1)) }
        return projection
    }

    /// Distinct values of the field at `key` (arrays contribute their elements), in MongoDB's
    /// value order.
    public func distinct(_ key: String, filter: Document = [:]) throws -> [BSONValue] {
        let c = try find(filter)
        return try Self.distinctValues(at: key) { try c.next() }
    }

    /// The distinct values at `key` of the documents `next` yields until nil (shared with
    /// `TransactionCollection.distinct`).
    static func distinctValues(at key: String, _ next: () throws -> Document?) rethrows -> [BSONValue] {
        var seen = Set<[UInt8]>()
        var values: [BSONValue] = []
        while let doc = try next() {
            for v in DocumentPath.values(in: doc, at: key) {
                if seen.insert(KeyEncoder.encode(v)).inserted { values.append(v) }
            }
        }
        return values.sorted { BSONValue.compare($0, $1) < 0 }
    }

    /// How `filter` is answered: one key, one partition-key prefix, or the whole collection.
    enum Access {
        case point([UInt8])
        case prefix([UInt8])
        case scan([UInt8])
        /// Keys under `prefix` from `start` (inclusive) to `end` (exclusive; empty: prefix end).
        case range(prefix: [UInt8], start: [UInt8], end: [UInt8])
    }

    func access(_ filter: Filter, _ entry: CatalogEntry) -> Access {
        if let pkField = entry.options.partitionKey {
            let eq = filter.equalities
            guard let pk = eq[pkField], Self.usableForKey(pk) else { return .scan(entry.documentPrefix) }
            let prefix = entry.documentPrefix + PrimaryKey.partitionPrefix(pk)
            if let skField = entry.options.sortKey, let sk = eq[skField], Self.usableForKey(sk) {
                return .point(prefix + KeyEncoder.encode(sk))
            }
            return .prefix(prefix)
        }
        if let id = filter.equality(at: "_id"), Self.usableForKey(id) { return .point(PrimaryKey.key(id: id, in: entry)) }
        if let range = idRange(filter, entry) { return range }
        return .scan(entry.documentPrefix)
    }

    /// `_id` bounds (`$gt`, `$gte`, `$lt`, `$lte` at the top level of the filter) as a key range.
    /// Comparisons match only within their value's type bracket, so a one-sided bound ends at
    /// the bracket's edge. The filter is still applied to every document read: the range only has
    /// to contain every match.
    func idRange(_ filter: Filter, _ entry: CatalogEntry) -> Access? {
        guard case .document(let ops)? = filter.spec["_id"], !ops.isEmpty else { return nil }
        let prefix = entry.documentPrefix
        var lower: [UInt8]?
        var upper: [UInt8]?
        var rank: UInt8?
        for (op, value) in ops {
            guard Self.rangeable(value) else { return nil }
            let enc = KeyEncoder.encode(value)
            if let r = rank, r != enc[0] { return nil }  // bounds of two brackets: leave it to a scan
            rank = enc[0]
            switch op {
            case "$gt", "$gte":
                if lower.map({ compareBytes($0, enc) < 0 }) ?? true { lower = enc }
            case "$lt", "$lte":
                // One past the value's key for both: encodings are self-delimiting, so no other
                // key lies between `enc` and `enc ‖ 00`; and $lt must keep the value's own key,
                // which a nearby Decimal128 below the bound can share (the filter drops the rest).
                let bound = enc + [0]
                if upper.map({ compareBytes(bound, $0) < 0 }) ?? true { upper = bound }
            default: return nil
            }
        }
        guard let rank, lower != nil || upper != nil else { return nil }
        let start = prefix + (lower ?? [rank])
        let end = prefix + (upper ?? [rank + 1])
        return .range(prefix: prefix, start: start, end: end)
    }

    /// Whether the key range `idRange` makes of `filter` holds exactly its matches, so a scan
    /// need not evaluate it: the filter is only `{_id: {$gte: s, $lte: t}}` (either or both)
    /// with strings, whose key encoding is exact and in MongoDB's order (UTF-8 bytes, a prefix
    /// first; symbols share the bracket and the encoding). `$gt`/`$lt` keep the bound's own key
    /// in the range, and numbers can share keys, so those stay filtered.
    static func idRangeIsExact(_ filter: Filter) -> Bool {
        exactIdRangeBounds(filter.spec) != nil
    }

    /// Types whose bracket is one rank byte of the key encoding, below MaxKey.
    static func rangeable(_ v: BSONValue) -> Bool {
        switch v {
        case .int32, .int64, .double, .string, .objectId, .datetime, .timestamp, .binary, .bool: true
        case .decimal128(let d): !d.isNaN
        default: false
        }
    }

    /// Equality on arrays and regexes matches more than one stored value: not a key lookup.
    static func usableForKey(_ v: BSONValue) -> Bool {
        switch v {
        case .array, .regex: false
        default: true
        }
    }

    /// The documents a filter may match, read now (callers re-check the filter).
    func candidates(_ filter: Filter, _ entry: CatalogEntry) throws -> [Document] {
        try candidatesWithKeys(filter, entry).map(\.1)
    }

    func candidatesWithKeys(_ filter: Filter, _ entry: CatalogEntry) throws -> [([UInt8], Document)] {
        try candidatesWithKeys(filter, entry, access: access(filter, entry))
    }

    /// As above with the filter's primary-key `access` already worked out (writes need it for
    /// their locks first). A point is the plan the planner picks for it without a hint: read
    /// it straight away, with no snapshot and no planner.
    func candidatesWithKeys(_ filter: Filter, _ entry: CatalogEntry, access: Access) throws
        -> [([UInt8], Document)]
    {
        if case .point(let key) = access {
            guard let raw = try storage.get(key) else { return [] }
            return [(key, try Document(trustedBytes: raw))]
        }
        let view = storage.readView()
        return try candidatesWithKeys(
            filter, entry, plan: planner(entry).plan(filter, sort: nil, projection: nil, hint: nil, collection: self),
            view: view)
    }

    /// Reads an index plan from `view` (taken before planning); primary-key plans read the
    /// latest state (callers of writes hold the locks that keep it still).
    func candidatesWithKeys(_ filter: Filter, _ entry: CatalogEntry, plan: QueryPlan, view: ReadView) throws
        -> [([UInt8], Document)]
    {
        let access: Access
        switch plan.kind {
        case .primary(let a): access = a
        case .index(var p):
            p.covered = false  // callers need whole documents
            let scan = IndexScan(plan: p, view: view, documentPrefix: entry.documentPrefix, filter: filter)
            var out: [([UInt8], Document)] = []
            while let (key, doc) = try scan.next() { out.append((key, doc)) }
            return out
        }
        switch access {
        case .point(let key):
            guard let raw = try storage.get(key) else { return [] }
            return [(key, try Document(trustedBytes: raw))]
        case .prefix(let prefix), .scan(let prefix), .range(let prefix, _, _):
            let (start, end) = bounds(access, prefix)
            let it = storage.makeIterator(
                options: ReadOptions(), lowerBound: start, upperBound: end.isEmpty ? IndexFormat.prefixEnd(prefix) : end)
            var out: [([UInt8], Document)] = []
            it.seek(start)
            while it.isValid, it.key.starts(with: prefix), end.isEmpty || compareBytes(it.key, end) < 0 {
                let doc = try Document(trustedBytes: it.value)
                if filter.matches(doc) { out.append((it.key, doc)) }
                it.next()
            }
            if let e = it.error { throw e }
            return out
        }
    }

    /// A cursor over the plan, reading `view`.
    /// `scan`: the index plan's scan, already made (`indexScan`).
    private func cursor(_ filter: Filter, _ entry: CatalogEntry, plan: QueryPlan, scan: IndexScan? = nil,
                        view: ReadView, projection: Projection?, skip: Int, limit: Int) throws -> Cursor
    {
        let access: Access
        switch plan.kind {
        case .primary(let a):
            access = a
        case .index(let p):
            let scan = scan ?? IndexScan(plan: p, view: view, documentPrefix: entry.documentPrefix, filter: filter)
            return Cursor(source: .index(scan), filter: filter, projection: projection, skip: skip, limit: limit)
        }
        switch access {
        case .point(let key):
            let docs = try view.get(key).map { [try Document(trustedBytes: $0)] } ?? []
            return Cursor(
                source: .documents(docs, index: 0), filter: filter, projection: projection, skip: skip, limit: limit)
        case .prefix(let prefix), .scan(let prefix), .range(let prefix, _, _):
            // The scan reads the view the plan was made at (taken just before).
            let (start, end) = bounds(access, prefix)
            let it = view.makeIterator(lowerBound: start, upperBound: end.isEmpty ? IndexFormat.prefixEnd(prefix) : end)
            it.seek(start)
            var exact = false
            if case .range = access { exact = Self.idRangeIsExact(filter) }
            return Cursor(
                source: .scan(ScanSource(iterator: it, prefix: prefix, end: end)), filter: filter,
                projection: projection, skip: skip, limit: limit, sourceIsExact: exact)
        }
    }

    /// Where a scan starts and where it stops (exclusive; empty: at the end of `prefix`).
    private func bounds(_ access: Access, _ prefix: [UInt8]) -> ([UInt8], [UInt8]) {
        if case .range(_, let start, let end) = access { return (start, end) }
        return (prefix, [])
    }

    func stableSorted(_ docs: [Document], by spec: SortSpec) -> [Document] {
        docs.enumerated().sorted { a, b in
            let c = spec.compare(a.element, b.element)
            return c != 0 ? c < 0 : a.offset < b.offset
        }.map(\.element)
    }
}
