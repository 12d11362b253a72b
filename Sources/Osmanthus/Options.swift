import OsmanthusBSON
import OsmanthusStorage

/// How a `Database` is opened.
public struct DatabaseOptions: Sendable {
    /// Options of the storage engine underneath.
    public var storage = Options()
    /// fsync every write before it returns (durable across power loss). Off: a write survives a
    /// crash of the process, as it reached the OS, and is fsync'd with the next synced write.
    public var syncWrites = false
    /// Write a change record with every commit (SPEC.md §16). Off: writes are a little cheaper
    /// and change streams cannot be opened.
    public var changeLog = true
    /// Change history kept for databases without their own setting (`setChangeLogRetention`).
    public var changeLogRetention = ChangeLogRetention()
    /// Seconds between passes of the TTL monitor (MongoDB's ttlMonitorSleepSecs); 0: no monitor.
    public var ttlMonitorInterval: Double = 60
    public init() {}
}

/// How a collection lays out its documents (SPEC.md §12.3). Fixed at creation.
public struct CollectionOptions: Sendable, Equatable {
    /// A field whose value is hashed to place the document (DynamoDB's partition key). nil: the
    /// collection is keyed by `_id` in one partition, so `_id` order is storage order.
    public var partitionKey: String?
    /// With a partition key: a field ordering the documents of one partition key.
    public var sortKey: String?
    /// Number of hash ranges the partition keys fall into (for moving partitions later).
    public var partitions: Int = 1
    /// Store each change's pre-image (and an update's post-image) in the change log, for
    /// streams' `fullDocumentBeforeChange` and `fullDocument: whenAvailable/required`.
    /// Can be changed later (`Database.setChangeStreamPreAndPostImages`).
    public var changeStreamPreAndPostImages = false
    public init(partitionKey: String? = nil, sortKey: String? = nil, partitions: Int = 1,
                changeStreamPreAndPostImages: Bool = false) {
        self.partitionKey = partitionKey
        self.sortKey = sortKey
        self.partitions = partitions
        self.changeStreamPreAndPostImages = changeStreamPreAndPostImages
    }
}

public struct FindOptions: Sendable {
    public var sort: Document?
    public var projection: Document?
    public var skip = 0
    /// 0: no limit.
    public var limit = 0
    /// Bytes an in-memory sort may hold (MongoDB's 100 MiB); beyond it the find fails with
    /// QueryExceededMemoryLimitNoDiskUseAllowed (292).
    public var memoryLimit = AggregateOptions.defaultMemoryLimit
    /// The index to use: its name, its key pattern, or `{$natural: 1}` for a collection scan.
    public var hint: BSONValue?
    public init(sort: Document? = nil, projection: Document? = nil, skip: Int = 0, limit: Int = 0,
                hint: BSONValue? = nil) {
        self.sort = sort
        self.projection = projection
        self.skip = skip
        self.limit = limit
        self.hint = hint
    }
}

public struct UpdateOptions: Sendable {
    public var upsert = false
    public var multi = false
    public var arrayFilters: [Document] = []
    public init(upsert: Bool = false, multi: Bool = false, arrayFilters: [Document] = []) {
        self.upsert = upsert
        self.multi = multi
        self.arrayFilters = arrayFilters
    }
}

public struct UpdateResult: Sendable, Equatable {
    public var matchedCount: Int
    public var modifiedCount: Int
    public var upsertedId: BSONValue?
    public init(matchedCount: Int, modifiedCount: Int, upsertedId: BSONValue? = nil) {
        self.matchedCount = matchedCount
        self.modifiedCount = modifiedCount
        self.upsertedId = upsertedId
    }
}

public struct FindAndModifyOptions: Sendable {
    public var sort: Document?
    public var projection: Document?
    /// An update or replacement document; nil with `remove`.
    public var update: Document?
    public var remove = false
    /// Return the document after the change instead of before it.
    public var returnNew = false
    public var upsert = false
    public var arrayFilters: [Document] = []
    public init(
        sort: Document? = nil, projection: Document? = nil, update: Document? = nil, remove: Bool = false,
        returnNew: Bool = false, upsert: Bool = false, arrayFilters: [Document] = []
    ) {
        self.sort = sort
        self.projection = projection
        self.update = update
        self.remove = remove
        self.returnNew = returnNew
        self.upsert = upsert
        self.arrayFilters = arrayFilters
    }
}

/// What `insertMany` did: ids of the documents written, by position, and per-position errors.
public struct InsertManyResult: Sendable {
    public var insertedIds: [Int: BSONValue] = [:]
    public var errors: [(index: Int, error: OsmanthusError)] = []
}

public struct DatabaseInfo: Sendable, Equatable {
    public var name: String
    public var sizeOnDisk: Int64
    public var empty: Bool
}

public struct CollectionInfo: Sendable, Equatable {
    public var name: String
    public var type: String
    public var options: Document
    /// The collection's UUID (binary subtype 4), as change events' `collectionUUID` give it.
    public var uuid: BSONValue? = nil
}
