import ArgumentParser
import OsmanthusStorage

/// `osmanthus dump-wal FILE`: every write batch of a log, one line per record and one per
/// operation. Damage is printed with its offset (exit 1).
struct DumpWALCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-wal", abstract: "Print the write batches of a log file.")

    @Argument(help: "A write-ahead log file (NNNNNN.log).")
    var file: String

    func run() throws {
        try Admin.run {
            let reader = LogReader(file: try PosixFileSystem().openReadable(file))
            var offset: UInt64 = 0
            var records = 0
            while let record = try reader.readRecord() {
                let batch = try WriteBatch(decoding: record, file: file, offset: offset)
                print("@\(offset) sequence \(batch.sequence) count \(batch.count) bytes \(record.count)")
                batch.forEach { kind, key, value in
                    if kind == .value {
                        print("  put \(Admin.preview(key)) = \(Admin.preview(value))")
                    } else {
                        print("  delete \(Admin.preview(key))")
                    }
                }
                offset = reader.lastRecordEnd
                records += 1
            }
            let tail = reader.droppedTailBytes > 0 ? ", torn tail of \(reader.droppedTailBytes) bytes dropped" : ""
            print("\(records) records, \(reader.lastRecordEnd) bytes\(tail)")
        }
    }
}
