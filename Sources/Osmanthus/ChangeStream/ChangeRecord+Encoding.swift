import OsmanthusBSON
import OsmanthusStorage

/// The stored form of a change record (SPEC.md §16.2), version 2: a fixed header, then the
/// fields present, the documents as their own BSON bytes. An insert's record is the header,
/// names, `documentKey` and the inserted document's bytes copied as they are: nothing is
/// re-encoded. Version 1 records (one BSON document) still decode, so a log or an archive
/// written before keeps working.
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

    /// 3 for what only version 3 can hold (an expanded operation, a description), else 2.
    var formatVersion: UInt8 {
        operation.isExpanded || operationDescription != nil ? ChangeLogFormat.version3 : ChangeLogFormat.version
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

    /// How many bytes `encode(into:)` appends.
    var encodedCount: Int {
        func string(_ s: String) -> Int { varintSize(s.utf8.count) + s.utf8.count }
        var n = ChangeLogFormat.headerSize + string(database)
        if let collection { n += string(collection) }
        if let engineKey { n += varintSize(engineKey.count) + engineKey.count }
        n += (documentKey?.byteCount ?? 0) + (fullDocument?.byteCount ?? 0) + (preImage?.byteCount ?? 0)
            + (updateDescription?.byteCount ?? 0) + (operationDescription?.byteCount ?? 0)
        if let toDatabase, let toCollection { n += string(toDatabase) + string(toCollection) }
        return n
    }

    /// Appends the record to `out` in one pass (this runs for every write: the engine batch is
    /// the buffer, see `ChangeLog.put`).
    func encode(into out: inout [UInt8]) {
        typealias F = ChangeLogFormat.Flag
        var flags: UInt8 = 0
        if collection != nil { flags |= F.collection }
        if engineKey != nil { flags |= F.engineKey }
        if documentKey != nil { flags |= F.documentKey }
        if fullDocument != nil { flags |= F.fullDocument }
        if preImage != nil { flags |= F.preImage }
        if updateDescription != nil { flags |= F.updateDescription }
        if toDatabase != nil, toCollection != nil { flags |= F.renameTarget }
        if operationDescription != nil { flags |= F.operationDescription }
        out.append(formatVersion)
        out.append(operationCode)
        out.append(flags)
        out.append(ChangeLogFormat.marker)
        appendFixed64(UInt64(bitPattern: wallMillis), to: &out)
        func varint(_ value: Int) {
            var v = UInt(value)
            while v >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        func string(_ s: String) { appendString(s, to: &out) }
        func document(_ d: Document?) {
            d?.withUnsafeBytes { appendBytes($0, to: &out) }
        }
        string(database)
        if let collection { string(collection) }
        if let engineKey {
            varint(engineKey.count)
            out.append(contentsOf: engineKey)
        }
        document(documentKey)
        document(fullDocument)
        document(preImage)
        document(updateDescription)
        if let toDatabase, let toCollection {
            string(toDatabase)
            string(toCollection)
        }
        document(operationDescription)
    }

    /// The bytes `encodeInsert` appends.
    static func insertCount(database: String, collection: String, idElementCount: Int, documentCount: Int) -> Int {
        let db = database.utf8.count
        let coll = collection.utf8.count
        return ChangeLogFormat.headerSize + varintSize(db) + db + varintSize(coll) + coll + idElementCount + 5
            + documentCount
    }

    /// An insert's record when its `documentKey` is `{_id}` alone: the same bytes as `encode`
    /// gives for `{op: insert, db, coll, dk: {_id}, doc}`, written straight from the document's
    /// `_id` element and bytes, with no record or `documentKey` document built (the common
    /// write; `InsertRecordEncodingTests` checks the two paths agree).
    static func encodeInsert(
        database: String, collection: String, wallMillis: Int64, idElement: UnsafeRawBufferPointer,
        document: UnsafeRawBufferPointer, into out: inout [UInt8]
    ) {
        typealias F = ChangeLogFormat.Flag
        out.append(ChangeLogFormat.version)
        out.append(1)
        out.append(F.collection | F.documentKey | F.fullDocument)
        out.append(ChangeLogFormat.marker)
        appendFixed64(UInt64(bitPattern: wallMillis), to: &out)
        appendString(database, to: &out)
        appendString(collection, to: &out)
        appendFixed32(UInt32(idElement.count + 5), to: &out)
        appendBytes(idElement, to: &out)
        out.append(0)
        appendBytes(document, to: &out)
    }

    /// The byte range of a document's `_id` element when `_id` is its first field with a
    /// string, ObjectId, int32, int64 or double value (what inserts store: `_id` leads), read
    /// from the first element's header alone; nil otherwise (then search with `elementBytes`).
    static func leadingIdElement(_ doc: UnsafeRawBufferPointer) -> Range<Int>? {
        // length:int32 ‖ type ‖ "_id" 0 ‖ value
        guard doc.count >= 13, doc[5] == 0x5F, doc[6] == 0x69, doc[7] == 0x64, doc[8] == 0 else { return nil }
        let valueStart = 9
        let size: Int
        switch doc[4] {
        case 0x01, 0x12: size = 8  // double, int64
        case 0x10: size = 4  // int32
        case 0x07: size = 12  // ObjectId
        case 0x02:  // string: int32 length (with its NUL) ‖ bytes
            let n = Int(doc.loadUnaligned(fromByteOffset: valueStart, as: Int32.self).littleEndian)
            guard n >= 1 else { return nil }
            size = 4 + n
        default: return nil
        }
        // The element must end before the document's own terminating byte.
        guard valueStart + size <= doc.count - 1 else { return nil }
        return 4..<(valueStart + size)
    }

    /// Decodes a stored record of either version. `trusted`: bytes this database wrote and the
    /// engine's checksums covered, so embedded documents are only checked for framing; records
    /// read from elsewhere (an archive) are validated in full.
    init(decoding bytes: [UInt8], trusted: Bool = true) throws {
        if !ChangeLogFormat.isVersion2(bytes) {
            try self.init(decodingVersion1: bytes)
            return
        }
        func damaged() -> OsmanthusError { OsmanthusError(.internalError, "damaged change record") }
        var r = ByteReader(bytes, from: ChangeLogFormat.headerSize)
        guard let op = Self.operation(code: bytes[1], version: bytes[0]) else { throw damaged() }
        let flags = bytes[2]
        if bytes[0] < ChangeLogFormat.version3 && flags & ChangeLogFormat.Flag.operationDescription != 0 {
            throw damaged()
        }
        let wall = Int64(bitPattern: bytes.loadFixed64(at: 4))
        func string() throws -> String {
            guard let n = r.readLength(), n <= r.remaining else { throw damaged() }
            defer { _ = r.skip(n) }
            return String(decoding: bytes[r.position..<(r.position + n)], as: UTF8.self)
        }
        func document(_ flag: UInt8) throws -> Document? {
            guard flags & flag != 0 else { return nil }
            guard r.remaining >= 5 else { throw damaged() }
            let n = Int(Int32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: r.position, as: Int32.self) }))
            guard n >= 5, n <= r.remaining else { throw damaged() }
            let slice = Array(bytes[r.position..<(r.position + n)])
            _ = r.skip(n)
            return trusted ? try Document(trustedBytes: slice) : try Document(bytes: slice)
        }
        typealias F = ChangeLogFormat.Flag
        let db = try string()
        let coll = flags & F.collection != 0 ? try string() : nil
        self.init(operation: op, database: db, collection: coll, wallMillis: wall)
        if flags & F.engineKey != 0 {
            guard let key = r.readLengthPrefixed() else { throw damaged() }
            engineKey = key
        }
        documentKey = try document(F.documentKey)
        fullDocument = try document(F.fullDocument)
        preImage = try document(F.preImage)
        updateDescription = try document(F.updateDescription)
        if flags & F.renameTarget != 0 {
            toDatabase = try string()
            toCollection = try string()
        }
        operationDescription = try document(F.operationDescription)
        guard r.isAtEnd else { throw damaged() }
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
            guard ChangeLogFormat.isVersion2(bytes) else {
                let full = try ChangeRecord(decoding: bytes)
                self.init(full.operation, full.database, full.collection, full.wallMillis)
                return
            }
            func damaged() -> OsmanthusError { OsmanthusError(.internalError, "damaged change record") }
            guard let op = ChangeRecord.operation(code: bytes[1], version: bytes[0]) else { throw damaged() }
            var r = ByteReader(bytes, from: ChangeLogFormat.headerSize)
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
        var v = UInt(utf8.count)
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        out.append(contentsOf: utf8)
    }
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
