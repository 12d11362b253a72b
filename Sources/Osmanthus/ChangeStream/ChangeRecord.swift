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

    /// The same bytes as `encode().bytes`, written in one pass into one buffer: this runs for
    /// every committed write, so it skips building a `Document` element by element.
    func encodedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(
            96 + (fullDocument?.byteCount ?? 0) + (preImage?.byteCount ?? 0) + (updateDescription?.byteCount ?? 0)
                + (documentKey?.byteCount ?? 0) + (engineKey?.count ?? 0))
        out.append(contentsOf: [0, 0, 0, 0])
        func key(_ type: UInt8, _ name: StaticString) {
            out.append(type)
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(0)
        }
        func int32(_ v: Int) {
            withUnsafeBytes(of: Int32(truncatingIfNeeded: v).littleEndian) { out.append(contentsOf: $0) }
        }
        func string(_ name: StaticString, _ text: String) {
            key(0x02, name)
            var text = text
            text.withUTF8 { utf8 in
                int32(utf8.count + 1)
                out.append(contentsOf: utf8)
            }
            out.append(0)
        }
        func document(_ name: StaticString, _ doc: Document) {
            key(0x03, name)
            doc.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        string("op", operation.rawValue)
        string("db", database)
        if let collection { string("coll", collection) }
        if let engineKey {
            key(0x05, "k")
            int32(engineKey.count)
            out.append(0)
            out.append(contentsOf: engineKey)
        }
        if let documentKey { document("dk", documentKey) }
        key(0x09, "wall")
        withUnsafeBytes(of: wallMillis.littleEndian) { out.append(contentsOf: $0) }
        if let fullDocument { document("doc", fullDocument) }
        if let preImage { document("pre", preImage) }
        if let updateDescription { document("ud", updateDescription) }
        if let toDatabase, let toCollection {
            document("to", ["db": .string(toDatabase), "coll": .string(toCollection)])
        }
        out.append(0)
        let length = Int32(out.count).littleEndian
        withUnsafeBytes(of: length) { raw in
            for i in 0..<4 { out[i] = raw[i] }
        }
        return out
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
