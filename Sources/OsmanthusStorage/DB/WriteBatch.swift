/// A group of puts and deletes applied atomically, kept in its encoded form (SPEC.md §5):
///
///     sequence (fixed64) ‖ count (fixed32) ‖ record*
///     record := 0x00 ‖ bytes(key)                           deletion
///             | 0x01 ‖ bytes(key) ‖ bytes(value)            value
///             | 0x02 ‖ bytes(key) ‖ varint(source) ‖ bytes(head)
///                    value head ‖ value of record i − source (`WriteBatchFormat.splicedKind`)
///
/// The encoding is what the WAL stores, so logging a batch is one append of `encoded`.
/// Record `i` is applied with sequence `sequence + i`; a spliced record is applied as an
/// ordinary value, so nothing past the batch (memtable, tables, reads) knows the third kind.
public struct WriteBatch: Sendable {
    /// The whole representation; always well formed (built by the mutators or validated).
    private var rep: [UInt8]
    /// Records added by `putStamped` whose keys still end in a placeholder: where each key
    /// ends in `rep` and the record's index. Not part of the encoding — setting `sequence`
    /// writes the stamps into `rep`, so the WAL and recovery see finished keys. The first is
    /// kept inline (`keyEnd` 0: none), the rest in `moreStamps`: a batch nearly always holds
    /// one stamped record (a document's change record), and an array cost an allocation.
    ///
    /// The struct is kept to four words (`rep`, two packed words and `moreStamps`): one word more
    /// and every pass over a batch copied its arrays (a retain and a release each).
    private var firstStampBits: UInt64 = 0
    private var moreStamps: [(keyEnd: Int, record: Int)] = []
    /// Low 32 bits: 1 + the index of the last record that is a plain value (0: none), so a
    /// spliced record can check its source is one; bit 32: whether any record is spliced.
    private var spliceBits: UInt64 = 0

    /// The first stamp, packed in `firstStampBits` (key end and record index, 32 bits each).
    private var firstStamp: (keyEnd: Int, record: Int) {
        get { (Int(firstStampBits & 0xFFFF_FFFF), Int(firstStampBits >> 32)) }
        set {
            precondition(newValue.keyEnd <= Int(UInt32.max), "a write batch with stamped keys is under 4 GiB")
            firstStampBits = UInt64(newValue.keyEnd) | UInt64(newValue.record) << 32
        }
    }

    /// Index of the last record that is a plain value (-1: none).
    private var lastValueRecord: Int {
        get { Int(spliceBits & 0xFFFF_FFFF) - 1 }
        set { spliceBits = (spliceBits & ~0xFFFF_FFFF) | UInt64(UInt32(truncatingIfNeeded: newValue + 1)) }
    }

    /// Whether any record is spliced (kind 2): a batch without one is applied record by record.
    private(set) var hasSplicedRecords: Bool {
        get { spliceBits >> 32 != 0 }
        set { spliceBits = (spliceBits & 0xFFFF_FFFF) | (newValue ? 1 << 32 : 0) }
    }

    public init() {
        rep = [UInt8](repeating: 0, count: WriteBatchFormat.headerSize)
    }

    /// An empty batch with room for about `capacity` encoded bytes, so filling it does not
    /// regrow its storage (a single put knows its size up front).
    public init(reservingCapacity capacity: Int) {
        // Reserved, then the header appended: `Array(unsafeUninitializedCapacity:)` allocates
        // through an unspecialized generic path that cost about 850 instructions per batch.
        rep = []
        rep.reserveCapacity(max(capacity, WriteBatchFormat.headerSize))
        for _ in 0..<WriteBatchFormat.headerSize { rep.append(0) }
    }

    /// An empty batch for a writer that holds none, shared so that holding it allocates nothing.
    static let placeholder = WriteBatch()

    /// Adopts bytes already validated.
    private init(validated rep: [UInt8]) {
        self.rep = rep
    }

    public mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        lastValueRecord = count
        rep.append(ValueKind.value.rawValue)
        rep.appendLengthPrefixed(key)
        rep.appendLengthPrefixed(value)
        setCount(count + 1)
    }

    /// A put whose key is `keyPrefix` followed by the record's own commit sequence (8 bytes,
    /// big-endian), filled in when the batch is committed. Keys written this way sort in commit
    /// order across the whole database, and a reader sees one only once every record before it
    /// is visible — what an ordered change log needs, without a lock around commit.
    public mutating func putStamped(_ keyPrefix: [UInt8], _ value: [UInt8]) {
        putStamped(keyPrefix, valueCount: value.count) { $0.append(contentsOf: value) }
    }

    /// `putStamped` with the value written in place by `writeValue`, which must append exactly
    /// `valueCount` bytes: a caller encoding a value saves building and copying an array.
    public mutating func putStamped(_ keyPrefix: [UInt8], valueCount: Int, _ writeValue: (inout [UInt8]) -> Void) {
        lastValueRecord = count
        rep.append(ValueKind.value.rawValue)
        rep.appendVarint(keyPrefix.count + 8)
        rep.append(contentsOf: keyPrefix)
        rep.append(contentsOf: Self.stampPlaceholder)
        addStamp(keyEnd: rep.count, record: count)
        rep.appendVarint(valueCount)
        let start = rep.count
        writeValue(&rep)
        precondition(rep.count - start == valueCount, "putStamped: the value is not the announced size")
        setCount(count + 1)
    }

    /// `putStamped` with a one-byte key prefix whose value is `head` followed by the value of the
    /// record added just before, which must be a plain put: a spliced record
    /// (`WriteBatchFormat.splicedKind`), so the WAL carries that value once. The change log's
    /// insert record (`head` ‖ the inserted document), written for every inserted document right
    /// after the document itself.
    public mutating func putStampedSplicingPrevious(_ keyPrefix: UInt8, head: UnsafeRawBufferPointer) {
        let records = count
        precondition(records > 0 && lastValueRecord == records - 1, "putStampedSplicingPrevious: the previous record is not a put")
        precondition(records < Int(UInt32.max), "a write batch holds at most 2^32 - 1 records")
        // 0x02 ‖ varint(9) ‖ prefix ‖ 8-byte placeholder ‖ varint(source 1) ‖ varint(head count)
        // (at most 17 bytes), then the head: one bulk append when the head is short enough to
        // join the framing on the stack (the change log's nearly always is).
        var record: SplicedRecordBuffer = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let keyEnd = rep.count + 11
        withUnsafeMutableBytes(of: &record) { f in
            f[0] = WriteBatchFormat.splicedKind
            f[1] = 9
            f[2] = keyPrefix
            f[11] = 1
            guard let to = f.baseAddress else { preconditionFailure("a stack buffer has an address") }
            var i = 12
            i += storeVarint(UInt64(head.count), at: to + i)
            if head.count <= f.count - i {
                if let from = head.baseAddress { (to + i).copyMemory(from: from, byteCount: head.count) }
                appendRaw(UnsafeRawBufferPointer(rebasing: f[0..<(i + head.count)]))
            } else {
                appendRaw(UnsafeRawBufferPointer(rebasing: f[0..<i]))
                appendRaw(head)
            }
        }
        addStamp(keyEnd: keyEnd, record: records)
        hasSplicedRecords = true
        rep.withUnsafeMutableBytes { all in
            all.storeBytes(of: UInt32(records + 1).littleEndian, toByteOffset: WriteBatchFormat.countOffset, as: UInt32.self)
        }
    }

    /// Stack room for a spliced record's framing and head: 160 bytes.
    private typealias SplicedRecordBuffer = (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    )

    /// One bulk copy (appending a raw buffer as a sequence would go byte by byte).
    @inline(__always)
    private mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        rep.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }

    private mutating func addStamp(keyEnd: Int, record: Int) {
        if firstStamp.keyEnd == 0 {
            firstStamp = (keyEnd, record)
        } else {
            moreStamps.append((keyEnd, record))
        }
    }

    private static let stampPlaceholder = [UInt8](repeating: 0, count: 8)

    /// Number of records whose key is stamped with its sequence at commit.
    public var stampedCount: Int { firstStamp.keyEnd == 0 ? 0 : 1 + moreStamps.count }

    public mutating func delete(_ key: [UInt8]) {
        rep.append(ValueKind.deletion.rawValue)
        rep.appendLengthPrefixed(key)
        setCount(count + 1)
    }

    /// Removes every record and resets the sequence to 0, keeping the storage (the write leader
    /// clears its reusable group batch for every group: this must not allocate).
    public mutating func clear() {
        rep.removeLast(rep.count - WriteBatchFormat.headerSize)
        rep.withUnsafeMutableBytes { header in
            header.storeBytes(of: 0 as UInt64, toByteOffset: WriteBatchFormat.sequenceOffset, as: UInt64.self)
            header.storeBytes(of: 0 as UInt32, toByteOffset: WriteBatchFormat.countOffset, as: UInt32.self)
        }
        firstStamp = (0, 0)
        lastValueRecord = -1
        hasSplicedRecords = false
        if !moreStamps.isEmpty { moreStamps.removeAll() }
    }

    /// Storage reserved, in bytes (the write leader drops a reusable batch that grew too big).
    var capacity: Int { rep.capacity }

    /// A put from borrowed bytes, copied in (the write leader encodes single puts straight into
    /// its reusable group batch this way).
    public mutating func put(bytes key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
        appendRecord(.value, key, value)
    }

    /// A deletion from borrowed bytes, as the put above.
    public mutating func delete(bytes key: UnsafeRawBufferPointer) {
        appendRecord(.deletion, key, nil)
    }

    /// `kind ‖ bytes(key) ‖ [bytes(value)]`, the count bumped in place. (Byte-sized appends for
    /// the kind and the varints: cheaper than staging them for one more bulk append.)
    @inline(__always)
    private mutating func appendRecord(_ kind: ValueKind, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) {
        if value != nil { lastValueRecord = count }
        rep.append(kind.rawValue)
        rep.appendVarint(key.count)
        appendRaw(key)
        if let value {
            rep.appendVarint(value.count)
            appendRaw(value)
        }
        rep.withUnsafeMutableBytes { all in
            let count = UInt32(littleEndian: all.loadUnaligned(fromByteOffset: WriteBatchFormat.countOffset, as: UInt32.self))
            precondition(count < UInt32.max, "a write batch holds at most 2^32 - 1 records")
            all.storeBytes(of: (count + 1).littleEndian, toByteOffset: WriteBatchFormat.countOffset, as: UInt32.self)
        }
    }

    /// Appends `other`'s records after this batch's; this batch's sequence is kept.
    public mutating func append(_ other: WriteBatch) {
        let shift = rep.count - WriteBatchFormat.headerSize
        let records = count
        other.forEachStamp { addStamp(keyEnd: $0 + shift, record: $1 + records) }
        if other.lastValueRecord >= 0 { lastValueRecord = other.lastValueRecord + records }
        if other.hasSplicedRecords { hasSplicedRecords = true }
        rep.append(contentsOf: other.rep[WriteBatchFormat.headerSize...])
        setCount(count + other.count)
    }

    /// Number of records.
    public var count: Int {
        Int(rep.loadFixed32(at: WriteBatchFormat.countOffset))
    }

    /// Encoded size in bytes, header included.
    public var byteSize: Int { rep.count }

    /// The sequence of the first record. Setting it also stamps the keys of `putStamped`
    /// records with their sequences.
    public var sequence: SequenceNumber {
        get { rep.loadFixed64(at: WriteBatchFormat.sequenceOffset) }
        set {
            let first = firstStamp
            let more = moreStamps
            rep.withUnsafeMutableBytes { all in
                all.storeBytes(of: newValue.littleEndian, toByteOffset: WriteBatchFormat.sequenceOffset, as: UInt64.self)
                guard first.keyEnd != 0 else { return }
                // Each stamp is the big-endian sequence over the key's 8 placeholder bytes.
                all.storeBytes(
                    of: (newValue + SequenceNumber(first.record)).bigEndian, toByteOffset: first.keyEnd - 8, as: UInt64.self)
                for s in more {
                    all.storeBytes(of: (newValue + SequenceNumber(s.record)).bigEndian, toByteOffset: s.keyEnd - 8, as: UInt64.self)
                }
            }
        }
    }

    /// Calls `body` with each stamped record's key end and index, in the order they were added.
    private func forEachStamp(_ body: (Int, Int) -> Void) {
        guard firstStamp.keyEnd != 0 else { return }
        body(firstStamp.keyEnd, firstStamp.record)
        for s in moreStamps { body(s.keyEnd, s.record) }
    }

    /// The whole representation.
    public var encoded: [UInt8] { rep }

    private mutating func setCount(_ n: Int) {
        precondition(n <= Int(UInt32.max), "a write batch holds at most 2^32 - 1 records")
        rep.storeFixed32(UInt32(n), at: WriteBatchFormat.countOffset)
    }

    /// Decodes and fully validates a representation, e.g. a WAL record. `file` and `offset`
    /// (the record's position in its file) are named in the `.corruption` error on any problem.
    /// Both formats are read: 1 (kinds 0 and 1) and 2 (also spliced records).
    public init(decoding bytes: [UInt8], file: String? = nil, offset: UInt64? = nil) throws {
        func corrupt(_ message: String) -> StorageError {
            StorageError.corruption("write batch: \(message)", file: file, offset: offset)
        }
        var reader = ByteReader(bytes)
        guard let sequence = reader.readFixed64(), let declared = reader.readFixed32() else {
            throw corrupt("\(bytes.count) bytes is shorter than the \(WriteBatchFormat.headerSize)-byte header")
        }
        var found: UInt64 = 0
        // Which records are plain values (a spliced record's source must be one); filled only
        // once a spliced record appears, from `firstSpliced` on (format 1 batches never need it).
        var isValue: [Bool] = []
        var lastValue = -1
        var spliced = false
        while !reader.isAtEnd {
            let recordStart = reader.position
            let kindByte = reader.readByte()
            guard let kindByte, kindByte <= WriteBatchFormat.splicedKind else {
                throw corrupt("unknown record kind \(bytes[recordStart]) at byte \(recordStart)")
            }
            guard let keyLength = reader.readLength(), reader.skip(keyLength) else {
                throw corrupt("truncated key in record \(found) at byte \(recordStart)")
            }
            if kindByte == ValueKind.value.rawValue {
                guard let valueLength = reader.readLength(), reader.skip(valueLength) else {
                    throw corrupt("truncated value in record \(found) at byte \(recordStart)")
                }
                lastValue = Int(found)
            } else if kindByte == WriteBatchFormat.splicedKind {
                spliced = true
                guard let source = reader.readVarint64(), let headLength = reader.readLength(), reader.skip(headLength)
                else {
                    throw corrupt("truncated spliced record \(found) at byte \(recordStart)")
                }
                if isValue.isEmpty && found > 0 {
                    // Rebuilt once from what was seen so far: before the first spliced record only
                    // the last value's index was kept.
                    isValue = Self.plainValueFlags(bytes, upTo: Int(found))
                }
                guard source >= 1, source <= found, isValue[Int(found - source)] else {
                    let target = source >= 1 && source <= found ? "record \(found - source), not a value" : "no record"
                    throw corrupt(
                        "spliced record \(found) at byte \(recordStart) takes its value from \(source) records back: \(target)")
                }
            }
            if !isValue.isEmpty || kindByte == WriteBatchFormat.splicedKind {
                isValue.append(kindByte == ValueKind.value.rawValue)
            }
            found += 1
        }
        guard found == UInt64(declared) else {
            throw corrupt("header says \(declared) records, found \(found)")
        }
        // Records take sequences sequence ..< sequence + count, all within 56 bits.
        guard sequence <= maxSequenceNumber, found <= maxSequenceNumber - sequence + 1 else {
            throw corrupt("sequence \(sequence) with \(found) records exceeds the 56-bit sequence space")
        }
        self.init(validated: bytes)
        lastValueRecord = lastValue
        hasSplicedRecords = spliced
    }

    /// For each of the first `records` records of well-formed (so far) `bytes`: whether it is a
    /// plain value.
    private static func plainValueFlags(_ bytes: [UInt8], upTo records: Int) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(records)
        bytes.withUnsafeBytes { raw in
            var p = WriteBatchFormat.headerSize
            while flags.count < records {
                let kindByte = raw[p]
                skipRecord(raw, at: &p)
                flags.append(kindByte == ValueKind.value.rawValue)
            }
        }
        return flags
    }

    /// Calls body for each record in order with its key and whole value (empty for a deletion),
    /// copied out of the representation (a dump or a test; the engine uses `forEachRaw`).
    public func forEach(_ body: (ValueKind, ArraySlice<UInt8>, ArraySlice<UInt8>) throws -> Void) rethrows {
        try forEachRaw { kind, key, head, value in
            try body(kind, ArraySlice(key), ArraySlice(Array(head) + Array(value)))
        }
    }

    /// Calls body for each record with borrowed bytes, valid only during the call: its kind
    /// (a spliced record is a value), key, and value as `head ‖ value` — `head` is empty except
    /// for a spliced record, whose `value` is its source's. No slices and no copies, so no
    /// reference counting per record (the write leader inserts every record of its group into
    /// the memtable this way, recovery every record of the WAL).
    func forEachRaw(
        _ body: (ValueKind, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        // Read once, outside the closure (which then touches only `raw`).
        let spliced = hasSplicedRecords
        try rep.withUnsafeBytes { raw in
            let empty = UnsafeRawBufferPointer(rebasing: raw[0..<0])
            var p = WriteBatchFormat.headerSize
            guard spliced else {
                // Kinds 0 and 1 only (every batch but an insert's with the change log on).
                while p < raw.count {
                    let kindByte = raw[p]
                    p += 1
                    let key = Self.rawField(raw, at: &p)
                    if kindByte == ValueKind.value.rawValue {
                        try body(.value, key, empty, Self.rawField(raw, at: &p))
                    } else {
                        precondition(kindByte == ValueKind.deletion.rawValue, "bad write batch kind")
                        try body(.deletion, key, empty, empty)
                    }
                }
                return
            }
            var record = 0
            // The previous record's value, when it is a plain value: a spliced record's source is
            // nearly always the record just before it.
            var previousValue: UnsafeRawBufferPointer? = nil
            while p < raw.count {
                // `rep` is well formed by construction, so these reads cannot fail.
                let kindByte = raw[p]
                p += 1
                let key = Self.rawField(raw, at: &p)
                if kindByte == ValueKind.value.rawValue {
                    let value = Self.rawField(raw, at: &p)
                    previousValue = value
                    try body(.value, key, empty, value)
                } else if kindByte == ValueKind.deletion.rawValue {
                    previousValue = nil
                    try body(.deletion, key, empty, empty)
                } else {
                    precondition(kindByte == WriteBatchFormat.splicedKind, "bad write batch kind")
                    let source = Self.rawVarint(raw, at: &p)
                    let head = Self.rawField(raw, at: &p)
                    let value: UnsafeRawBufferPointer
                    if source == 1, let previousValue {
                        value = previousValue
                    } else {
                        value = Self.rawValue(raw, ofRecord: record - source)
                    }
                    previousValue = nil
                    try body(.value, key, head, value)
                }
                record += 1
            }
        }
    }

    /// `forEachRaw`, also telling whether each record was added by `putStamped`. Stamped keys
    /// grow with the commit sequence, so the memtable can put one after the last without a search.
    func forEachRawMarkingStamped(
        _ body: (ValueKind, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, Bool) throws -> Void
    ) rethrows {
        // Stamps are kept in record order: walk them alongside the records.
        var nextStamped = firstStamp.keyEnd == 0 ? -1 : firstStamp.record
        var more = 0
        var record = 0
        try forEachRaw { kind, key, head, value in
            let stamped = record == nextStamped
            if stamped {
                nextStamped = more < moreStamps.count ? moreStamps[more].record : -1
                more += 1
            }
            record += 1
            try body(kind, key, head, value, stamped)
        }
    }

    /// The value of record `index` (a plain value) of a well-formed representation, found by
    /// walking from the start: a spliced record whose source is not the record just before.
    private static func rawValue(_ raw: UnsafeRawBufferPointer, ofRecord index: Int) -> UnsafeRawBufferPointer {
        var p = WriteBatchFormat.headerSize
        for _ in 0..<index { skipRecord(raw, at: &p) }
        precondition(raw[p] == ValueKind.value.rawValue, "spliced record's source is not a value")
        p += 1
        _ = rawField(raw, at: &p)
        return rawField(raw, at: &p)
    }

    /// Moves `p` past the well-formed record at `p`.
    private static func skipRecord(_ raw: UnsafeRawBufferPointer, at p: inout Int) {
        let kindByte = raw[p]
        p += 1
        _ = rawField(raw, at: &p)
        if kindByte == ValueKind.value.rawValue {
            _ = rawField(raw, at: &p)
        } else if kindByte == WriteBatchFormat.splicedKind {
            _ = rawVarint(raw, at: &p)
            _ = rawField(raw, at: &p)
        }
    }

    /// Reads a varint at `p` in a well-formed representation and moves `p` past it.
    @inline(__always)
    private static func rawVarint(_ raw: UnsafeRawBufferPointer, at p: inout Int) -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = raw[p]
            p += 1
            value |= Int(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
            precondition(shift < 63, "bad write batch varint")
        }
        return value
    }

    /// Reads `bytes(...)` at `p` in a well-formed representation and moves `p` past it.
    @inline(__always)
    private static func rawField(_ raw: UnsafeRawBufferPointer, at p: inout Int) -> UnsafeRawBufferPointer {
        let length = rawVarint(raw, at: &p)
        let field = UnsafeRawBufferPointer(rebasing: raw[p..<(p + length)])
        p += length
        return field
    }
}
