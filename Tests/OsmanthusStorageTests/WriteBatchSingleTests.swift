import Glibc
import Testing

@testable import OsmanthusStorage

/// A lone `DB.put`/`DB.delete` is logged from the caller's bytes through
/// `WriteBatch.encodeSingle` instead of a built batch: its log record must be exactly the batch
/// that one record makes, and what recovery reads back must be that write.
struct WriteBatchSingleTests {
    static func seeds() -> [UInt64] {
        if let s = getenvString("OSMANTHUS_SEED"), let seed = UInt64(s) { return [seed] }
        return [3, 29, 0x5EED]
    }

    /// `encodeSingle` into raw memory, returned as an array.
    private static func encoded(
        sequence: SequenceNumber, kind: ValueKind, key: [UInt8], value: [UInt8]
    ) -> [UInt8] {
        let size = WriteBatch.singleByteSize(keyCount: key.count, valueCount: kind == .value ? value.count : nil)
        // Guard bytes after the encoding: it must write exactly `size` bytes.
        var out = [UInt8](repeating: 0xEE, count: size + 8)
        let written = out.withUnsafeMutableBytes { raw in
            key.withUnsafeBytes { k in
                value.withUnsafeBytes { v in
                    WriteBatch.encodeSingle(sequence: sequence, kind: kind, key: k, value: v, to: raw.baseAddress!)
                }
            }
        }
        #expect(written == size)
        #expect(out[size...].allSatisfy { $0 == 0xEE }, "wrote past its size")
        return Array(out[..<size])
    }

    /// Random keys and values (lengths across the one-, two- and three-byte varints, empty
    /// values, deletions): the single encoding equals a `WriteBatch` holding the same record
    /// with the same sequence, and decodes to it.
    @Test(arguments: seeds())
    func singleEncodingIsTheOneRecordBatch(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let lengths = [0, 1, 16, 127, 128, 300, 16383, 16384, 70_000]
        for round in 0..<200 {
            let key = (0..<max(1, lengths[Int(rng.next() % UInt64(lengths.count))] % 20_000)).map { _ in
                UInt8(truncatingIfNeeded: rng.next())
            }
            let value = (0..<lengths[Int(rng.next() % UInt64(lengths.count))]).map { _ in
                UInt8(truncatingIfNeeded: rng.next())
            }
            let kind: ValueKind = rng.next() % 4 == 0 ? .deletion : .value
            let sequence = SequenceNumber(rng.next() % (maxSequenceNumber - 1))
            var batch = WriteBatch()
            if kind == .value { batch.put(key, value) } else { batch.delete(key) }
            batch.sequence = sequence
            let single = Self.encoded(sequence: sequence, kind: kind, key: key, value: value)
            #expect(single == batch.encoded, "seed \(seed) round \(round)")
            let decoded = try WriteBatch(decoding: single)
            #expect(decoded.sequence == sequence && decoded.count == 1)
            decoded.forEach { k, kk, vv in
                #expect(k == kind && Array(kk) == key && Array(vv) == (kind == .value ? value : []))
            }
        }
    }

    /// Lone puts and deletes, one value larger than a log block (so its record is fragmented),
    /// written one at a time: the log holds one batch per write with consecutive sequences, and
    /// a reopen recovers exactly the last state of every key.
    @Test(arguments: seeds())
    func lonePutsAndDeletesAreLoggedAsOneRecordBatches(seed: UInt64) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: seed)
        var model: [[UInt8]: [UInt8]] = [:]
        var writes: [(ValueKind, [UInt8], [UInt8])] = []
        var options = Options()
        options.backgroundWork = false
        do {
            let db = try DB.open(at: dir.path, options: options)
            for i in 0..<300 {
                let key = Array("k\(rng.next() % 50)".utf8)
                if rng.next() % 4 == 0 {
                    try db.delete(key)
                    model[key] = nil
                    writes.append((.deletion, key, []))
                } else {
                    let length = i == 150 ? 40_000 : Int(rng.next() % 300)
                    let value = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    try value.withUnsafeBytes { v in
                        try key.withUnsafeBytes { k in try db.put(bytes: k, v) }
                    }
                    model[key] = value
                    writes.append((.value, key, value))
                }
            }
            try db.close()
        }
        // The logs, in file-number order, hold the writes in order, one per record.
        let fs = PosixFileSystem()
        let logs = try fs.listDirectory(dir.path).filter { $0.hasSuffix(".log") }.sorted()
        var logged: [(SequenceNumber, ValueKind, [UInt8], [UInt8])] = []
        for name in logs {
            let reader = LogReader(file: try fs.openReadable(dir.path + "/" + name))
            while let record = try reader.readRecord() {
                let batch = try WriteBatch(decoding: record)
                #expect(batch.count == 1)
                batch.forEach { logged.append((batch.sequence, $0, Array($1), Array($2))) }
            }
        }
        #expect(logged.count == writes.count)
        for (i, (entry, write)) in zip(logged, writes).enumerated() {
            #expect(entry.1 == write.0 && entry.2 == write.1 && entry.3 == write.2, "write \(i)")
            if i > 0 { #expect(entry.0 == logged[i - 1].0 + 1, "sequences of writes \(i - 1) and \(i)") }
        }
        let db = try DB.open(at: dir.path, options: options)
        defer { try? db.close() }
        for i in 0..<50 {
            let key = Array("k\(i)".utf8)
            #expect(try db.get(key) == model[key], "seed \(seed) key \(i)")
        }
    }

    /// `addRecord(framed:)` writes the same file bytes as `addRecord` for records of random sizes
    /// (empty up to several blocks), so every position in a block is met: records that fit
    /// go out whole, the rest (and block tails too short for a header) take the usual path.
    @Test(arguments: seeds())
    func framedRecordsWriteTheSameLogAsPlainOnes(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let plainFile = ByteArrayFile(path: "plain.log")
        let framedFile = ByteArrayFile(path: "framed.log")
        let plain = LogWriter(file: plainFile)
        let framed = LogWriter(file: framedFile)
        var records: [[UInt8]] = []
        for _ in 0..<400 {
            let count =
                rng.next() % 20 == 0
                ? Int(rng.next() % 70_000) : Int(rng.next() % 400)
            let record = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            records.append(record)
            try plain.addRecord(record)
            var buffer = [UInt8](repeating: 0xAB, count: LogFormat.headerSize) + record
            try buffer.withUnsafeMutableBytes { try framed.addRecord(framed: $0) }
        }
        #expect(framedFile.bytes == plainFile.bytes, "seed \(seed)")
        let reader = LogReader(file: framedFile)
        var read: [[UInt8]] = []
        while let record = try reader.readRecord() { read.append(record) }
        #expect(read == records)
    }
}
