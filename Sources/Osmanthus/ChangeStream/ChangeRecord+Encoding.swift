import OsmanthusBSON
import OsmanthusStorage

/// The stored form of a change record (SPEC.md §16.2), version 4: a fixed header, then the
/// fields present, the documents as their own BSON bytes. An insert's record is the header,
/// names, the collection's id and the inserted document's bytes copied as they are: nothing is
/// re-encoded, and its `documentKey` (`{_id}`) is taken from the document when read. Versions
/// 1–3 still decode, so a log or an archive written before keeps working.
extension ChangeRecord {
    /// The operation's byte in the header.
    var operationCode: UInt8 {
        switch operation {
        case .insert: 1
        case .update: 2
        case .replace: 3
        case .delete: 4
        case .drop: 5
        case .rename: 6
        case .dropDatabase: 7
        case .create: 8
        case .createIndexes: 9
        case .dropIndexes: 10
        case .modify: 11
        }
    }

    static func operation(code: UInt8, version: UInt8) -> Operation? {
        guard let op = operation(code: code) else { return nil }
        return op.isExpanded && version < ChangeLogFormat.version3 ? nil : op
    }

    static func operation(code: UInt8) -> Operation? {
        switch code {
        case 1: .insert
        case 2: .update
        case 3: .replace
        case 4: .delete
        case 5: .drop
        case 6: .rename
        case 7: .dropDatabase
        case 8: .create
        case 9: .createIndexes
        case 10: .dropIndexes
        case 11: .modify
        default: nil
        }
    }

    /// The record's bytes.
    func encodedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedCount)
        encode(into: &out)
        return out
    }

    /// Whether the record's `documentKey` is the one a reader derives: an insert's `{_id}`
    /// taken from its document. Such a key is not stored.
    private var documentKeyIsDerived: Bool {
        guard operation == .insert, let documentKey, let fullDocument else { return false }
        return documentKey == Self.idKey(of: fullDocument)
    }

    /// How many bytes `encode(into:)` appends.
    var encodedCount: Int {
        func string(_ s: String) -> Int { varintSize(s.utf8.count) + s.utf8.count }
        var n = ChangeLogFormat.header4Size + string(database)
        if let collection { n += string(collection) }
        if let collectionId { n += varintSize(Int(collectionId)) }
        if let engineKey { n += varintSize(engineKey.count) + engineKey.count }
        if !documentKeyIsDerived { n += documentKey?.byteCount ?? 0 }
        n += (fullDocument?.byteCount ?? 0) + (preImage?.byteCount ?? 0)
            + (updateDescription?.byteCount ?? 0) + (operationDescription?.byteCount ?? 0)
            + (stateBefore?.byteCount ?? 0)
        if let toDatabase, let toCollection { n += string(toDatabase) + string(toCollection) }
        return n
    }

    /// Appends the record (version 4) to `out` in one pass.
    func encode(into out: inout [UInt8]) {
        typealias F = ChangeLogFormat.Flag
        typealias F2 = ChangeLogFormat.Flag2
        let storesKey = documentKey != nil && !documentKeyIsDerived
        var flags: UInt8 = 0
        if collection != nil { flags |= F.collection }
        if engineKey != nil { flags |= F.engineKey }
        if storesKey { flags |= F.documentKey }
        if fullDocument != nil { flags |= F.fullDocument }
        if preImage != nil { flags |= F.preImage }
        if updateDescription != nil { flags |= F.updateDescription }
        if toDatabase != nil, toCollection != nil { flags |= F.renameTarget }
        if operationDescription != nil { flags |= F.operationDescription }
        var flags2: UInt8 = 0
        // The id is written only after a collection name (dropDatabase has neither).
        if collectionId != nil, collection != nil { flags2 |= F2.collectionId }
        if stateBefore != nil { flags2 |= F2.stateBefore }
        out.append(ChangeLogFormat.version4)
        out.append(operationCode)
        out.append(flags)
        out.append(ChangeLogFormat.marker)
        appendFixed64(UInt64(bitPattern: wallMillis), to: &out)
        out.append(flags2)
        func document(_ d: Document?) {
            d?.withUnsafeBytes { appendBytes($0, to: &out) }
        }
        appendString(database, to: &out)
        if let collection {
            appendString(collection, to: &out)
            if let collectionId { appendVarint(UInt(collectionId), to: &out) }
        }
        if let engineKey {
            appendVarint(UInt(engineKey.count), to: &out)
            out.append(contentsOf: engineKey)
        }
        if storesKey { document(documentKey) }
        document(fullDocument)
        document(preImage)
        document(updateDescription)
        if let toDatabase, let toCollection {
            appendString(toDatabase, to: &out)
            appendString(toCollection, to: &out)
        }
        document(operationDescription)
        document(stateBefore)
    }

    /// The bytes `encodeInsert` appends.
    static func insertCount(database: String, collection: String, collectionId: UInt32, documentCount: Int) -> Int {
        let db = database.utf8.count
        let coll = collection.utf8.count
        return ChangeLogFormat.header4Size + varintSize(db) + db + varintSize(coll) + coll
            + varintSize(Int(collectionId)) + documentCount
    }

    /// An insert's record when its `documentKey` is `{_id}` alone: the same bytes as `encode`
    /// gives for `{op: insert, db, coll, collectionId, dk: {_id}, doc}`, written straight from
    /// the document's bytes with no record built (the common write; `InsertRecordEncodingTests`
    /// checks the two paths agree). The document must hold `_id` (every stored one does).
    static func encodeInsert(
        database: String, collection: String, collectionId: UInt32, wallMillis: Int64,
        document: UnsafeRawBufferPointer, into out: inout [UInt8]
    ) {
        typealias F = ChangeLogFormat.Flag
        // The header and flags2 as one 13-byte append.
        var header: (UInt64, UInt32, UInt8) = (
            (UInt64(ChangeLogFormat.version4) | 1 << 8 | UInt64(F.collection | F.fullDocument) << 16
                | UInt64(ChangeLogFormat.marker) << 24 | UInt64(UInt32(truncatingIfNeeded: wallMillis)) << 32).littleEndian,
            UInt32(truncatingIfNeeded: wallMillis >> 32).littleEndian, ChangeLogFormat.Flag2.collectionId
        )
        withUnsafeBytes(of: &header) { appendBytes(UnsafeRawBufferPointer(rebasing: $0[0..<13]), to: &out) }
        appendString(database, to: &out)
        appendString(collection, to: &out)
        appendVarint(UInt(collectionId), to: &out)
        appendBytes(document, to: &out)
    }

    /// Stack room for an insert record's head (`encodeInsertHead`): 128 bytes.
    typealias InsertHead = (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    )
    static let emptyInsertHead: InsertHead = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    /// `encodeInsert`'s bytes before the document (header, `flags2`, names, collection id),
    /// stored at the start of `out`; returns how many, or nil when they do not fit (long names:
    /// the caller falls back to `encodeInsert`). The change log writes the head from the stack
    /// and the document from its own bytes, so the record is built without a closure or an
    /// array append per field.
    static func encodeInsertHead(
        database: String, collection: String, collectionId: UInt32, wallMillis: Int64, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        typealias F = ChangeLogFormat.Flag
        guard out.count >= ChangeLogFormat.header4Size + 5 else { return nil }
        out.storeBytes(
            of: (UInt64(ChangeLogFormat.version4) | 1 << 8 | UInt64(F.collection | F.fullDocument) << 16
                | UInt64(ChangeLogFormat.marker) << 24 | UInt64(UInt32(truncatingIfNeeded: wallMillis)) << 32).littleEndian,
            toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: UInt32(truncatingIfNeeded: wallMillis >> 32).littleEndian, toByteOffset: 8, as: UInt32.self)
        out[12] = ChangeLogFormat.Flag2.collectionId
        // Positions passed along, not captured: a closure capturing a variable costs a
        // dynamic exclusivity check per access, more than the rest of this function.
        guard let afterDatabase = storeString(database, at: ChangeLogFormat.header4Size, in: out),
            let afterCollection = storeString(collection, at: afterDatabase, in: out)
        else { return nil }
        return storeVarint(UInt(collectionId), at: afterCollection, in: out)
    }

    /// Stores varint(`value`) at `p` in `out` (which has room); returns the position after it.
    @inline(__always)
    static func storeVarint(_ value: UInt, at p: Int, in out: UnsafeMutableRawBufferPointer) -> Int {
        var v = value
        var i = p
        while v >= 0x80 {
            out[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        out[i] = UInt8(truncatingIfNeeded: v)
        return i + 1
    }

    /// Stores str(`s`) at `p` in `out` if it and a 5-byte varint after it fit; returns the
    /// position after it, or nil.
    static func storeString(_ s: String, at p: Int, in out: UnsafeMutableRawBufferPointer) -> Int? {
        s.utf8.withContiguousStorageIfAvailable { utf8 -> Int? in
            guard utf8.count + 10 <= out.count - p else { return nil }
            let start = storeVarint(UInt(utf8.count), at: p, in: out)
            UnsafeMutableRawBufferPointer(rebasing: out[start..<(start + utf8.count)]).copyMemory(from: UnsafeRawBufferPointer(utf8))
            return start + utf8.count
        } ?? nil
    }

    /// `{_id: <the document's _id>}`, copying the element's bytes (`{_id: null}` without one).
    static func idKey(of doc: Document) -> Document {
        if let id = doc.elementBytes("_id") {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(id.count + 5)
            var length = Int32(id.count + 5).littleEndian
            withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: id)
            bytes.append(0)
            if let key = try? Document(trustedBytes: bytes) { return key }
        }
        return ["_id": .null]
    }

    /// Decodes a stored record of any version. `trusted`: bytes this database wrote and the
    /// engine's checksums covered, so embedded documents are only checked for framing; records
    /// read from elsewhere (an archive) are validated in full.
    init(decoding bytes: [UInt8], trusted: Bool = true) throws {
        if !ChangeLogFormat.isBinary(bytes) {
            try self.init(decodingVersion1: bytes)
            return
        }
        func damaged() -> OsmanthusError { OsmanthusError(.internalError, "damaged change record") }
        typealias F = ChangeLogFormat.Flag
        typealias F2 = ChangeLogFormat.Flag2
        let version = bytes[0]
        var r = ByteReader(bytes, from: ChangeLogFormat.headerSize(version: version))
        guard let op = Self.operation(code: bytes[1], version: version) else { throw damaged() }
        let flags = bytes[2]
        if version < ChangeLogFormat.version3 && flags & F.operationDescription != 0 { throw damaged() }
        let flags2 = version >= ChangeLogFormat.version4 ? bytes[12] : 0
        guard flags2 & ~F2.known == 0 else { throw damaged() }
        let wall = Int64(bitPattern: bytes.loadFixed64(at: 4))
        func string() throws -> String {
            guard let n = r.readLength(), n <= r.remaining else { throw damaged() }
            defer { _ = r.skip(n) }
            return String(decoding: bytes[r.position..<(r.position + n)], as: UTF8.self)
        }
        func document(_ present: Bool) throws -> Document? {
            guard present else { return nil }
            guard r.remaining >= 5 else { throw damaged() }
            let n = Int(Int32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: r.position, as: Int32.self) }))
            guard n >= 5, n <= r.remaining else { throw damaged() }
            let slice = Array(bytes[r.position..<(r.position + n)])
            _ = r.skip(n)
            return trusted ? try Document(trustedBytes: slice) : try Document(bytes: slice)
        }
        let db = try string()
        let coll = flags & F.collection != 0 ? try string() : nil
        self.init(operation: op, database: db, collection: coll, wallMillis: wall)
        if flags2 & F2.collectionId != 0 {
            guard coll != nil, let id = r.readVarint32() else { throw damaged() }
            collectionId = id
        }
        if flags & F.engineKey != 0 {
            guard let key = r.readLengthPrefixed() else { throw damaged() }
            engineKey = key
        }
        documentKey = try document(flags & F.documentKey != 0)
        fullDocument = try document(flags & F.fullDocument != 0)
        preImage = try document(flags & F.preImage != 0)
        updateDescription = try document(flags & F.updateDescription != 0)
        if flags & F.renameTarget != 0 {
            toDatabase = try string()
            toCollection = try string()
        }
        operationDescription = try document(flags & F.operationDescription != 0)
        stateBefore = try document(flags2 & F2.stateBefore != 0)
        guard r.isAtEnd else { throw damaged() }
        // Version 4 leaves an insert's `{_id}` key out: it is the document's.
        if op == .insert, documentKey == nil, let fullDocument { documentKey = Self.idKey(of: fullDocument) }
    }

    /// A version 1 record: one BSON document with short field names.
    private init(decodingVersion1 bytes: [UInt8]) throws {
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

    /// What the log's bookkeeping needs from a record (its database and wall time; the
    /// operation and collection for filtering), read from the header without touching the
    /// documents.
    struct Summary: Equatable {
        var operation: Operation
        var database: String
        var collection: String?
        var wallMillis: Int64

        init(decoding bytes: [UInt8]) throws {
            guard ChangeLogFormat.isBinary(bytes) else {
                let full = try ChangeRecord(decoding: bytes)
                self.init(full.operation, full.database, full.collection, full.wallMillis)
                return
            }
            func damaged() -> OsmanthusError { OsmanthusError(.internalError, "damaged change record") }
            guard let op = ChangeRecord.operation(code: bytes[1], version: bytes[0]) else { throw damaged() }
            var r = ByteReader(bytes, from: ChangeLogFormat.headerSize(version: bytes[0]))
            func string() throws -> String {
                guard let n = r.readLength(), n <= r.remaining else { throw damaged() }
                defer { _ = r.skip(n) }
                return String(decoding: bytes[r.position..<(r.position + n)], as: UTF8.self)
            }
            let db = try string()
            let coll = bytes[2] & ChangeLogFormat.Flag.collection != 0 ? try string() : nil
            self.init(op, db, coll, Int64(bitPattern: bytes.loadFixed64(at: 4)))
        }

        init(_ operation: Operation, _ database: String, _ collection: String?, _ wallMillis: Int64) {
            self.operation = operation
            self.database = database
            self.collection = collection
            self.wallMillis = wallMillis
        }
    }
}

private func appendFixed64(_ value: UInt64, to out: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { appendBytes($0, to: &out) }
}

private func appendFixed32(_ value: UInt32, to out: inout [UInt8]) {
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { appendBytes($0, to: &out) }
}

/// One bulk copy (appending an `UnsafeRawBufferPointer` as a sequence goes byte by byte).
private func appendBytes(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
    out.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
}

/// varint(length) ‖ UTF-8 bytes.
private func appendString(_ s: String, to out: inout [UInt8]) {
    var s = s
    s.withUTF8 { utf8 in
        appendVarint(UInt(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }
}

private func appendVarint(_ value: UInt, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

private func varintSize(_ value: Int) -> Int {
    var n = 1
    var v = UInt(value)
    while v >= 0x80 {
        v >>= 7
        n += 1
    }
    return n
}
