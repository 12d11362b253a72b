import OsmanthusBSON

/// A secondary index as the catalog records it (SPEC.md §11.5): its key pattern, options, the
/// permanent numeric id that prefixes its entries (never reused) and its build state.
public struct IndexSpec: Sendable {
    public struct Field: Sendable, Equatable {
        public var path: String
        public var ascending: Bool
    }

    public enum State: String, Sendable {
        /// Maintained by every write, filled by a background scan; never used by queries.
        case building
        case ready
    }

    public var name: String
    public var fields: [Field]
    public var unique = false
    public var sparse = false
    public var partialFilterExpression: Document?
    public var expireAfterSeconds: Int64?
    var collectionId: UInt32 = 0
    var id: UInt32 = 0
    public var state: State = .building
    /// Some document reached an array in one of the fields (set once, never cleared): such an
    /// index cannot cover a query, give a sort order or intersect two bounds of one field.
    public var multikey = false
    /// `partialFilterExpression`, parsed.
    var partialFilter: Filter?

    /// `{a: 1, b: -1}`.
    public var keyPattern: Document {
        Document(fields.map { ($0.path, BSONValue.int32($0.ascending ? 1 : -1)) })
    }

    /// MongoDB's default name: `a_1_b_-1`.
    static func defaultName(_ keys: Document) -> String {
        keys.map { k, v in "\(k)_\(v.exactInt64.map(String.init) ?? "\(v)")" }.joined(separator: "_")
    }

    /// Parses and validates a key pattern and options (CannotCreateIndex 67 / BadValue 2).
    init(keys: Document, options: IndexOptions) throws {
        guard !keys.isEmpty else { throw OsmanthusError(.cannotCreateIndex, "Index keys cannot be empty.") }
        var fields: [Field] = []
        for (path, value) in keys {
            guard !path.isEmpty, !path.hasPrefix("$"),
                !path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
            else { throw OsmanthusError(.cannotCreateIndex, "invalid index key field '\(path)'") }
            if case .string(let kind) = value {
                throw OsmanthusError(.cannotCreateIndex, "index type '\(kind)' is not supported")
            }
            guard value.isNumber, let d = value.numericDouble, d != 0, !d.isNaN else {
                throw OsmanthusError(.cannotCreateIndex, "Values in the index key pattern must be non-zero numbers: \(path): \(value)")
            }
            if fields.contains(where: { $0.path == path }) {
                throw OsmanthusError(.cannotCreateIndex, "duplicate field '\(path)' in index key pattern")
            }
            fields.append(Field(path: path, ascending: d > 0))
        }
        self.fields = fields
        name = options.name ?? Self.defaultName(keys)
        unique = options.unique
        sparse = options.sparse
        partialFilterExpression = options.partialFilterExpression
        partialFilter = try partialFilterExpression.map { try Filter($0) }
        if let ttl = options.expireAfterSeconds {
            guard ttl >= 0 else { throw OsmanthusError(.cannotCreateIndex, "expireAfterSeconds must be >= 0") }
            guard fields.count == 1 else {
                throw OsmanthusError(.cannotCreateIndex, "TTL indexes are single-field indexes, compound indexes do not support TTL")
            }
            expireAfterSeconds = ttl
        }
        if name == "_id_" || keys == ["_id": 1] {
            throw OsmanthusError(.cannotCreateIndex, "the _id index always exists")
        }
        if fields.contains(where: { $0.path == "_id" }) && unique && fields.count == 1 {
            throw OsmanthusError(.cannotCreateIndex, "the _id index always exists")
        }
    }

    /// Same key pattern and options (what makes two creations "the same index").
    func sameDefinition(_ other: IndexSpec) -> Bool {
        fields == other.fields && unique == other.unique && sparse == other.sparse
            && partialFilterExpression?.bytes == other.partialFilterExpression?.bytes
            && expireAfterSeconds == other.expireAfterSeconds
    }

    /// The listIndexes shape.
    public var description: Document {
        var d: Document = ["v": .int32(2), "key": .document(keyPattern), "name": .string(name)]
        if unique { d.append("unique", .bool(true)) }
        if sparse { d.append("sparse", .bool(true)) }
        if let p = partialFilterExpression { d.append("partialFilterExpression", .document(p)) }
        if let t = expireAfterSeconds { d.append("expireAfterSeconds", .int64(t)) }
        return d
    }

    // MARK: Catalog record

    func encode() -> Document {
        var d = description
        d.append("collectionId", .int64(Int64(collectionId)))
        d.append("id", .int64(Int64(id)))
        d.append("state", .string(state.rawValue))
        if multikey { d.append("multikey", .bool(true)) }
        return d
    }

    init(decoding d: Document) throws {
        guard case .document(let key)? = d["key"], case .string(let name)? = d["name"],
            case .int64(let cid)? = d["collectionId"], let collectionId = UInt32(exactly: cid),
            case .int64(let iid)? = d["id"], let id = UInt32(exactly: iid),
            case .string(let st)? = d["state"], let state = State(rawValue: st)
        else { throw OsmanthusError(.internalError, "damaged index catalog record: \(d)") }
        var o = IndexOptions(name: name)
        o.unique = d["unique"] == .bool(true)
        o.sparse = d["sparse"] == .bool(true)
        o.partialFilterExpression = d["partialFilterExpression"]?.documentValue
        if case .int64(let t)? = d["expireAfterSeconds"] { o.expireAfterSeconds = t }
        var spec = try IndexSpec(keys: key, options: o, validating: false)
        spec.collectionId = collectionId
        spec.id = id
        spec.state = state
        spec.multikey = d["multikey"] == .bool(true)
        spec.partialFilter = try spec.partialFilterExpression.map { try Filter($0) }
        self = spec
    }

    private init(keys: Document, options: IndexOptions, validating: Bool) throws {
        fields = keys.map { Field(path: $0.key, ascending: ($0.value.numericDouble ?? 1) > 0) }
        name = options.name ?? Self.defaultName(keys)
        unique = options.unique
        sparse = options.sparse
        partialFilterExpression = options.partialFilterExpression
        expireAfterSeconds = options.expireAfterSeconds
    }

    /// `0x03 ‖ u32be(collection id) ‖ u32be(index id)`: the catalog record's key.
    var catalogKey: [UInt8] { IndexFormat.catalogKey(collectionId: collectionId, indexId: id) }

    /// `0x11 ‖ u32be(collection id) ‖ u32be(index id)`: the prefix of every entry.
    var entryPrefix: [UInt8] { IndexFormat.entryPrefix(collectionId: collectionId, indexId: id) }
}

/// Options of `Collection.createIndex`, named as MongoDB names them.
public struct IndexOptions: Sendable {
    public var name: String?
    public var unique = false
    public var sparse = false
    public var partialFilterExpression: Document?
    public var expireAfterSeconds: Int64?

    public init(name: String? = nil, unique: Bool = false, sparse: Bool = false,
                partialFilterExpression: Document? = nil, expireAfterSeconds: Int64? = nil) {
        self.name = name
        self.unique = unique
        self.sparse = sparse
        self.partialFilterExpression = partialFilterExpression
        self.expireAfterSeconds = expireAfterSeconds
    }
}
