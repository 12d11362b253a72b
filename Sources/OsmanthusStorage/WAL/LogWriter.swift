/// Appends logical records to a record log (SPEC.md §4): the write-ahead log and the manifest.
///
/// A logical record is cut into physical records so that none crosses a 32 KiB block boundary;
/// a block tail too short for a header is zero-filled. `addRecord` only buffers: the caller
/// decides when to `flush` (survives a process crash) or `sync` (survives a power loss).
///
/// Not thread-safe: one owner at a time, like the `WritableFile` it wraps. After any thrown
/// error the file's tail is unknown and the writer must not be used again.
public final class LogWriter {
    public let file: WritableFile
    /// Bytes already used in the current block.
    // `@exclusivity(unchecked)`: one owner at a time (see above) and no access overlaps another,
    // so the run-time checks (a thread-local lookup each) would only cost time on every record.
    @exclusivity(unchecked) private var blockOffset: Int
    private static let zeros = [UInt8](repeating: 0, count: LogFormat.headerSize)

    /// Starts a log in `file`, which should be new and empty. (A non-empty file is continued at
    /// its block position, but only a file this writer wrote whole can be continued safely.)
    public init(file: WritableFile) {
        self.file = file
        self.blockOffset = Int(file.size % UInt64(LogFormat.blockSize))
    }

    /// Appends one logical record (empty is allowed). Buffered: no flush, no sync.
    public func addRecord(_ record: [UInt8]) throws {
        try record.withUnsafeBytes { (all) throws in try addRecord(all) }
    }

    /// `addRecord` from borrowed bytes (the write leader encodes a lone put on the stack).
    public func addRecord(_ all: UnsafeRawBufferPointer) throws {
        var start = 0
        var isFirst = true
        // Runs at least once, so an empty record is written as one empty FULL record.
        while true {
            let leftover = LogFormat.blockSize - blockOffset
            if leftover < LogFormat.headerSize {
                // Too short for a header: pad the block with zeros and move to the next one.
                if leftover > 0 {
                    try Self.zeros.withUnsafeBytes { (z) throws in
                        try file.append(UnsafeRawBufferPointer(rebasing: z[0..<leftover]))
                    }
                }
                blockOffset = 0
            }
            // With exactly `headerSize` bytes left this is an empty FIRST fragment.
            let room = LogFormat.blockSize - blockOffset - LogFormat.headerSize
            let length = min(room, all.count - start)
            let isLast = start + length == all.count
            let type: LogFormat.RecordType =
                switch (isFirst, isLast) {
                case (true, true): .full
                case (true, false): .first
                case (false, true): .last
                case (false, false): .middle
                }
            try emit(type, UnsafeRawBufferPointer(rebasing: all[start..<(start + length)]))
            start += length
            isFirst = false
            if isLast { break }
        }
    }

    /// `addRecord` of `framed` less its first `LogFormat.headerSize` bytes, which are the
    /// caller's scratch: a record that fits in the current block is written there as one FULL
    /// physical record, header and payload, in one append (a lone put's record is framed so).
    public func addRecord(framed: UnsafeMutableRawBufferPointer) throws {
        let header = LogFormat.headerSize
        precondition(framed.count >= header, "a framed record has room for its header")
        let payload = UnsafeRawBufferPointer(rebasing: framed[header...])
        guard let base = framed.baseAddress, LogFormat.blockSize - blockOffset >= framed.count else {
            try addRecord(payload)
            return
        }
        let type = LogFormat.RecordType.full.rawValue
        let crc = LogFormat.maskedChecksum(type: type, payload: payload)
        base.storeBytes(of: crc.littleEndian, as: UInt32.self)
        base.storeBytes(of: UInt16(truncatingIfNeeded: payload.count).littleEndian, toByteOffset: 4, as: UInt16.self)
        base.storeBytes(of: type, toByteOffset: 6, as: UInt8.self)
        try file.append(UnsafeRawBufferPointer(framed))
        blockOffset += framed.count
    }

    private func emit(_ type: LogFormat.RecordType, _ payload: UnsafeRawBufferPointer) throws {
        let crc = LogFormat.maskedChecksum(type: type.rawValue, payload: payload)
        // The 7-byte header built in a register-sized word on the stack, little-endian:
        // crc (4 bytes) ‖ length (2 bytes) ‖ type (1 byte) ‖ one unused byte not written.
        var header = (UInt64(crc) | UInt64(payload.count & 0xFFFF) << 32 | UInt64(type.rawValue) << 48).littleEndian
        try withUnsafeBytes(of: &header) { (word) throws in
            try file.append(UnsafeRawBufferPointer(rebasing: word[0..<LogFormat.headerSize]))
        }
        if !payload.isEmpty { try file.append(payload) }
        blockOffset += LogFormat.headerSize + payload.count
    }

    /// Hands buffered records to the operating system.
    public func flush() throws {
        try file.flush()
    }

    /// Flushes and makes every record added so far durable.
    public func sync() throws {
        try file.sync()
    }

    /// Makes durable every record already `flush`ed, without touching the buffer: may run on
    /// another thread while the owner appends the next records (never while it closes).
    public func syncFlushed() throws {
        try file.syncFlushed()
    }

    public func close() throws {
        try file.close()
    }
}
