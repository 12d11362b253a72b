/// Reads logical records back from a record log written by `LogWriter` (SPEC.md §4).
///
/// A crash can leave the end of a log half-written: a short header, a short payload, a
/// checksum that does not match, a FIRST fragment whose LAST never arrived, or zeros where the
/// file system extended the file but never wrote the data. When no intact record follows such
/// damage anywhere in the rest of the file, it is a torn tail: `readRecord` returns nil and
/// `droppedTailBytes` says how much was cut off. Damage with an intact record after it cannot
/// come from a torn append, so it is reported as `.corruption` naming the bad record's offset.
///
/// Records that are intact but make no sense (an unknown type, a MIDDLE or LAST without a
/// FIRST, a FIRST interrupted by another record) are corruption wherever they appear.
///
/// Not thread-safe: one reader per pass over a file.
public final class LogReader {
    private let file: ReadableFile
    /// The current block (shorter than a block only at the end of the file).
    private var block: [UInt8] = []
    /// File offset of `block[0]`.
    private var blockStart: UInt64 = 0
    /// Next unread byte in `block`.
    private var position = 0
    private var loaded = false
    /// The file's length, known once a short block has been read.
    private var fileEnd: UInt64?
    private var finished = false
    private var failure: StorageError?

    /// Offset where the last whole record read ends.
    public private(set) var lastRecordEnd: UInt64 = 0
    /// Bytes dropped at the tail as a torn write (0 when the log ended cleanly).
    public private(set) var droppedTailBytes: UInt64 = 0

    public init(file: ReadableFile) {
        self.file = file
    }

    /// The next whole logical record, or nil at the end of the log.
    public func readRecord() throws -> [UInt8]? {
        if let failure { throw failure }
        guard !finished else { return nil }
        do {
            return try assembleRecord()
        } catch let error as StorageError {
            failure = error
            throw error
        }
    }

    private func assembleRecord() throws -> [UInt8]? {
        var assembled: [UInt8] = []
        // Offset of the FIRST fragment being assembled, nil between logical records.
        var firstOffset: UInt64?
        while true {
            switch try readPhysicalRecord() {
            case .endOfFile:
                // A clean end, or a record whose later fragments were never written.
                return endAtTornTail()
            case .damaged(let offset, let reason):
                if let intact = try findIntactRecord(after: offset) {
                    throw corruption("\(reason); an intact record follows at offset \(intact)", offset)
                }
                return endAtTornTail()
            case .unknownType(let offset, let type):
                throw corruption("unknown record type \(type)", offset)
            case .fragment(let type, let payload, let offset):
                switch type {
                case .full, .first:
                    if let firstOffset {
                        throw corruption("FIRST fragment is not followed by its LAST fragment", firstOffset)
                    }
                    if type == .full {
                        lastRecordEnd = blockStart + UInt64(position)
                        return Array(block[payload])
                    }
                    firstOffset = offset
                    assembled = Array(block[payload])
                case .middle, .last:
                    guard firstOffset != nil else {
                        throw corruption("\(type == .middle ? "MIDDLE" : "LAST") fragment without a FIRST", offset)
                    }
                    assembled.append(contentsOf: block[payload])
                    if type == .last {
                        lastRecordEnd = blockStart + UInt64(position)
                        return assembled
                    }
                }
            }
        }
    }

    private func endAtTornTail() -> [UInt8]? {
        finished = true
        let end = fileEnd ?? file.size
        droppedTailBytes = end > lastRecordEnd ? end - lastRecordEnd : 0
        return nil
    }

    private func corruption(_ message: String, _ offset: UInt64) -> StorageError {
        StorageError.corruption("log: \(message)", file: file.path, offset: offset)
    }

    // MARK: Physical records

    private enum PhysicalRecord {
        /// An intact record; `payload` indexes `block`.
        case fragment(LogFormat.RecordType, payload: Range<Int>, offset: UInt64)
        /// Bytes that are not an intact record (torn, flipped, or zeroed).
        case damaged(offset: UInt64, reason: String)
        /// An intact record of a type this version does not know.
        case unknownType(offset: UInt64, type: UInt8)
        case endOfFile
    }

    private func load(at offset: UInt64) throws {
        block = try file.read(at: offset, count: LogFormat.blockSize)
        blockStart = offset
        position = 0
        loaded = true
        if block.count < LogFormat.blockSize { fileEnd = offset + UInt64(block.count) }
    }

    private func readPhysicalRecord() throws -> PhysicalRecord {
        if !loaded { try load(at: 0) }
        while block.count - position < LogFormat.headerSize {
            if block.count == LogFormat.blockSize {
                // The zero-filled block trailer: records resume at the next block.
                try load(at: blockStart + UInt64(LogFormat.blockSize))
                continue
            }
            let available = block.count - position
            if available == 0 { return .endOfFile }
            return .damaged(
                offset: blockStart + UInt64(position),
                reason: "truncated record header (\(available) of \(LogFormat.headerSize) bytes)")
        }

        let offset = blockStart + UInt64(position)
        let storedChecksum = block.loadFixed32(at: position)
        let length = Int(block[position + 4]) | Int(block[position + 5]) << 8
        let typeByte = block[position + 6]
        let payloadStart = position + LogFormat.headerSize
        let payloadEnd = payloadStart + length

        if payloadEnd > block.count {
            let reason =
                payloadEnd <= LogFormat.blockSize
                ? "truncated record: \(length) payload bytes declared, \(block.count - payloadStart) present"
                : "record length \(length) runs past the end of its block"
            return .damaged(offset: offset, reason: reason)
        }
        guard checksumMatches(storedChecksum, typeByte, payloadStart..<payloadEnd) else {
            let zeroed = storedChecksum == 0 && length == 0 && typeByte == 0
            return .damaged(
                offset: offset,
                reason: zeroed ? "zero-filled bytes where a record header belongs" : "checksum mismatch")
        }
        guard let type = LogFormat.RecordType(rawValue: typeByte) else {
            return .unknownType(offset: offset, type: typeByte)
        }
        position = payloadEnd
        return .fragment(type, payload: payloadStart..<payloadEnd, offset: offset)
    }

    private func checksumMatches(_ stored: UInt32, _ type: UInt8, _ payload: Range<Int>) -> Bool {
        let actual = block.withUnsafeBytes { raw in
            LogFormat.maskedChecksum(type: type, payload: UnsafeRawBufferPointer(rebasing: raw[payload]))
        }
        return actual == stored
    }

    /// The offset of the first intact physical record of a known type that starts after
    /// `offset`, or nil when there is none before the end of the file.
    ///
    /// Every byte position is a candidate, because damage may have hidden where the next record
    /// starts. (A payload that itself embeds an intact log record can be mistaken for one; that
    /// errs towards reporting corruption, never towards dropping data silently.)
    private func findIntactRecord(after offset: UInt64) throws -> UInt64? {
        let blockSize = UInt64(LogFormat.blockSize)
        var candidate = offset + 1
        while true {
            let start = candidate - candidate % blockSize
            if !loaded || start != blockStart { try load(at: start) }
            let from = Int(candidate - start)
            let found = block.withUnsafeBytes { Self.firstIntactRecord(in: $0, from: from) }
            if let found { return start + UInt64(found) }
            if block.count < LogFormat.blockSize { return nil }
            candidate = start + blockSize
        }
    }

    /// The first position ≥ `from` in `block` where an intact record of a known type starts.
    private static func firstIntactRecord(in block: UnsafeRawBufferPointer, from: Int) -> Int? {
        var p = from
        while p + LogFormat.headerSize <= block.count {
            // The type byte is the cheapest test and rejects zeros and most garbage.
            let type = block[p + 6]
            if type >= LogFormat.RecordType.full.rawValue && type <= LogFormat.RecordType.last.rawValue {
                let length = Int(block[p + 4]) | Int(block[p + 5]) << 8
                let payloadStart = p + LogFormat.headerSize
                if payloadStart + length <= block.count {
                    let stored = block.loadUnaligned(fromByteOffset: p, as: UInt32.self).littleEndian
                    let payload = UnsafeRawBufferPointer(rebasing: block[payloadStart..<(payloadStart + length)])
                    if LogFormat.maskedChecksum(type: type, payload: payload) == stored { return p }
                }
            }
            p += 1
        }
        return nil
    }
}
