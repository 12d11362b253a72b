import OsmanthusBSON
import OsmanthusStorage

/// One entry of the change log as stored (SPEC.md §16.2): a BSON document with short field
/// names. Streams turn it into MongoDB's event shape (`ChangeEventBuilder`).
struct ChangeRecord: Sendable {
    enum Operation: String, Sendable {
        case insert, update, replace, delete, drop, rename, dropDatabase
    }

    var operation: Operation
    var database: String
    /// nil for dropDatabase.
    var collection: String?
    /// The document's engine key (for updateLookup); nil for catalog events.
    var engineKey: [UInt8]?
    var documentKey: Document?
    var wallMillis: Int64
    /// Post-image: always for insert and replace; for update only with pre/post images on.
    var fullDocument: Document?
    /// Pre-image, only for collections with pre/post images on.
    var preImage: Document?
    var updateDescription: Document?
    /// rename: the target namespace.
    var toDatabase: String?
    var toCollection: String?

    func encode() -> Document {
        var d = Document()
        d.append("op", .string(operation.rawValue))
        d.append("db", .string(database))
        if let collection { d.append("coll", .string(collection)) }
        if let engineKey { d.append("k", .binary(BSONBinary(subtype: .generic, data: engineKey))) }
        if let documentKey { d.append("dk", .document(documentKey)) }
        d.append("wall", .datetime(wallMillis))
        if let fullDocument { d.append("doc", .document(fullDocument)) }
        if let preImage { d.append("pre", .document(preImage)) }
        if let updateDescription { d.append("ud", .document(updateDescription)) }
        if let toDatabase, let toCollection {
            d.append("to", .document(["db": .string(toDatabase), "coll": .string(toCollection)]))
        }
        return d
    }

    init(operation: Operation, database: String, collection: String?, wallMillis: Int64) {
        self.operation = operation
        self.database = database
        self.collection = collection
        self.wallMillis = wallMillis
    }

    init(decoding bytes: [UInt8]) throws {
        let d = try Document(bytes: bytes)
        guard let op = d["op"]?.stringValue.flatMap(Operation.init(rawValue:)), let db = d["db"]?.stringValue,
            let wall = d["wall"]?.datetimeValue
        else { throw OsmanthusError(.internalError, "damaged change record") }
        self.init(operation: op, database: db, collection: d["coll"]?.stringValue, wallMillis: wall)
        engineKey = d["k"]?.binaryValue.map { Array($0.data) }
        documentKey = d["dk"]?.documentValue
        fullDocument = d["doc"]?.documentValue
        preImage = d["pre"]?.documentValue
        updateDescription = d["ud"]?.documentValue
        if let to = d["to"]?.documentValue {
            toDatabase = to["db"]?.stringValue
            toCollection = to["coll"]?.stringValue
        }
    }

    /// Whether this record ends a stream of `scope` (after it is delivered, an invalidate follows).
    func invalidates(_ scope: ChangeStreamScope) -> Bool {
        switch scope {
        case .collection(let db, let name):
            (operation == .drop || operation == .rename) && database == db && collection == name
        case .database(let db):
            operation == .dropDatabase && database == db
        case .cluster:
            false
        }
    }

    /// Whether a stream of `scope` sees this record.
    func isVisible(in scope: ChangeStreamScope) -> Bool {
        switch scope {
        case .collection(let db, let name): database == db && collection == name
        case .database(let db): database == db
        case .cluster: !ChangeStreamScope.internalDatabases.contains(database)
        }
    }
}
