/// A full integrity check: every live table and log read end to end, every checksum verified
/// (`osmanthus check`, SPEC.md §14.6).
public struct IntegrityReport: Sendable {
    public var tablesChecked = 0
    public var logsChecked = 0
    /// Table entries and log records read.
    public var entriesChecked = 0
    public var bytesChecked: UInt64 = 0
    /// Every damage found, each naming its file and, where known, the offset.
    public var problems: [StorageError] = []
    public var isIntact: Bool { problems.isEmpty }

    public init() {}
}

extension DB {
    /// Reads every table of the current version and every log the manifest has not absorbed,
    /// block by block and record by record; carries on past damage to report all of it. Meant
    /// for a database opened read-only (a writable one's live log grows while it is read).
    public func checkIntegrity() -> IntegrityReport {
        var report = IntegrityReport()
        let (version, logNumber) = monitor.withLock { (versions.current, versions.logNumber) }
        for file in version.levels.flatMap({ $0 }) {
            let tablePath = DBFiles.table(path, file.number)
            report.tablesChecked += 1
            do {
                let f = try fileSystem.openReadable(tablePath)
                defer { f.close() }
                if f.size != file.size {
                    throw StorageError.corruption(
                        "table is \(f.size) bytes, the manifest says \(file.size)", file: tablePath, offset: nil)
                }
                let it = try Table.open(file: f, fileNumber: file.number, cache: nil).makeIterator(fillCache: false)
                it.seekToFirst()
                while it.isValid {
                    if !InternalKey.isWellFormed(it.key) {
                        throw StorageError.corruption("malformed internal key", file: tablePath, offset: nil)
                    }
                    report.entriesChecked += 1
                    it.next()
                }
                if let e = it.error { throw e }
                report.bytesChecked += f.size
            } catch {
                report.problems.append(Self.storageError(error))
            }
        }
        let names = (try? fileSystem.listDirectory(path)) ?? []
        for name in names {
            guard case .log(let n) = DBFiles.parse(name), n >= logNumber else { continue }
            let logPath = joinPath(path, name)
            report.logsChecked += 1
            do {
                let f = try fileSystem.openReadable(logPath)
                defer { f.close() }
                let reader = LogReader(file: f)
                var offset: UInt64 = 0
                while let record = try reader.readRecord() {
                    _ = try WriteBatch(decoding: record, file: logPath, offset: offset)
                    offset = reader.lastRecordEnd
                    report.entriesChecked += 1
                }
                report.bytesChecked += reader.lastRecordEnd
            } catch {
                report.problems.append(Self.storageError(error))
            }
        }
        return report
    }
}
