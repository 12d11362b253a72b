/// Online checkpoints: a consistent copy of the database in another directory, taken while
/// writes go on (SPEC.md §14.1).
///
/// Under the monitor, briefly: pin the current version (keeping its tables from deletion), a
/// snapshot at the last visible sequence, the manifest's log number and two file numbers for the
/// copy's manifest. Then, without the lock: hard-link every table of the pinned version (a copy
/// when linking fails, e.g. across devices), link the logs closed before the pin and copy the
/// active log's records up to the pinned sequence, write a one-edit manifest and CURRENT, sync,
/// and rename `<target>.tmp` to the target. The cost is the links plus the active log's tail
/// (at most one memtable's worth), not the data size.
public struct CheckpointInfo: Sendable {
    /// The copy holds exactly the writes with sequences up to this one.
    public let sequence: SequenceNumber
    public let tableCount: Int
    public let tableBytes: UInt64
    /// Bytes of log records copied.
    public let logBytes: UInt64
}

extension DB {
    /// Writes a consistent copy of the database to `directory`, which must not exist. The copy
    /// opens as a normal database (read-only or writable) holding every write visible when the
    /// call began, and nothing written after the brief pin.
    @discardableResult
    public func checkpoint(to directory: String) throws -> CheckpointInfo {
        let (info, snapshot) = try checkpointPinningSnapshot(to: directory)
        snapshot.release()
        return info
    }

    /// `checkpoint`, also returning a snapshot of the source at the checkpoint's sequence (the
    /// caller releases it).
    func checkpointPinningSnapshot(to directory: String) throws -> (CheckpointInfo, Snapshot) {
        let fs = fileSystem
        var trimmed = Substring(directory)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let target = String(trimmed)
        if fs.fileExists(target) {
            throw StorageError(.invalidArgument, "checkpoint target \(target) already exists", file: target)
        }
        let temp = target + ".tmp"
        try Self.prepareEmptyDirectory(temp, fileSystem: fs)
        let pin = try pinForCheckpoint()
        do {
            var tableBytes: UInt64 = 0
            for file in pin.version.levels.flatMap({ $0 }) {
                try Self.linkOrCopy(
                    DBFiles.table(path, file.number), to: DBFiles.table(temp, file.number), fileSystem: fs)
                tableBytes += file.size
            }
            var logBytes: UInt64 = 0
            for (number, file) in pin.logs {
                let copyPath = DBFiles.log(temp, number)
                if pin.isSealed(number), (try? fs.link(DBFiles.log(path, number), to: copyPath)) != nil { continue }
                logBytes += try Self.copyLog(file, upTo: pin.sequence, to: copyPath, fileSystem: fs).recordBytes
            }
            try writeManifest(of: pin, to: temp)
            try fs.syncDirectory(temp)
            try fs.rename(temp, to: target)
            try fs.syncDirectory(Self.parentDirectory(of: target))
            pin.closeLogs()
            let info = CheckpointInfo(
                sequence: pin.sequence, tableCount: pin.version.allFileNumbers.count, tableBytes: tableBytes,
                logBytes: logBytes)
            return (info, pin.snapshot)
        } catch {
            pin.closeLogs()
            pin.snapshot.release()
            throw error
        }
    }

    /// Writes the copy's `MANIFEST-M` (one snapshot edit of the pinned state) and `CURRENT`
    /// into `directory` (SPEC.md §14.1 step 6).
    func writeManifest(of pin: CheckpointPin, to directory: String) throws {
        let edit = VersionSet.snapshotEdit(
            version: pin.version, logNumber: pin.logNumber, nextFileNumber: pin.tempNumber + 1,
            lastSequence: pin.sequence, compactPointers: pin.compactPointers)
        try VersionSet.writeManifest(
            edit, directory: directory, fileSystem: fileSystem, manifestNumber: pin.manifestNumber,
            tempNumber: pin.tempNumber)
    }

    /// What a checkpoint (or a backup, which copies the same files) copies, pinned. Holding it
    /// keeps the version's tables from deletion (the version is registered as live).
    struct CheckpointPin {
        let version: Version
        let snapshot: Snapshot
        var sequence: SequenceNumber { snapshot.sequence }
        let logNumber: UInt64
        let compactPointers: [[UInt8]?]
        let manifestNumber: UInt64
        let tempNumber: UInt64
        /// The log being written at the pin (0 for a read-only database, which writes none).
        /// Every log numbered below it was synced and closed whole at a memtable switch before
        /// the pin, after its last group became visible: it holds only batches ≤ `sequence` and
        /// no torn tail, and is never written again — it can be linked rather than copied.
        let activeLog: UInt64
        /// Every log the manifest has not absorbed, opened before any could be deleted.
        var logs: [(UInt64, ReadableFile)]
        /// How long the pin held the database's monitor (what a writer could have waited for).
        var monitorNanos: UInt64 = 0

        func isSealed(_ logNumber: UInt64) -> Bool { logNumber < activeLog }
        func closeLogs() { for (_, file) in logs { file.close() } }
    }

    /// Pins what the checkpoint copies. A log is deleted only after the manifest's log number
    /// passes it, so if that number is unchanged once the logs are open, every log the pinned
    /// state needs was opened; otherwise a flush finished in between, and the pin is retaken.
    func pinForCheckpoint() throws -> CheckpointPin {
        var monitorNanos: UInt64 = 0
        while true {
            var pin = try monitor.withLock { () throws -> (CheckpointPin, UInt64) in
                let start = monotonicNanos()
                defer { monitorNanos += monotonicNanos() - start }
                if state.closed || state.closing { throw StorageError(.closed, "the database is closed") }
                let version = versions.current
                // Registered as live, so `deleteObsoleteFiles` keeps its tables while we hold it.
                state.liveVersions.append(WeakVersion(version: version))
                let manifestNumber = versions.newFileNumber()
                let tempNumber = versions.newFileNumber()
                // A read-only database writes no log: every log on disk is older than the numbers above.
                let newestLog = state.logFileNumber == 0 ? manifestNumber : state.logFileNumber
                let pin = CheckpointPin(
                    version: version, snapshot: snapshots.make(state.visibleSequence), logNumber: versions.logNumber,
                    compactPointers: versions.compactPointers, manifestNumber: manifestNumber, tempNumber: tempNumber,
                    activeLog: state.logFileNumber, logs: [])
                return (pin, newestLog)
            }
            var complete = true
            for name in try fileSystem.listDirectory(path) {
                guard case .log(let n) = DBFiles.parse(name), n >= pin.0.logNumber, n <= pin.1 else { continue }
                do {
                    pin.0.logs.append((n, try fileSystem.openReadable(joinPath(path, name))))
                } catch let e as StorageError where e.code == .notFound {
                    complete = false
                }
            }
            let logNumber = monitor.withLock { () -> UInt64 in
                let start = monotonicNanos()
                defer { monitorNanos += monotonicNanos() - start }
                return versions.logNumber
            }
            if complete && logNumber == pin.0.logNumber {
                pin.0.logs.sort { $0.0 < $1.0 }
                pin.0.monitorNanos = monitorNanos
                return pin.0
            }
            pin.0.closeLogs()
            pin.0.snapshot.release()
        }
    }

    /// What `copyLog` wrote: the records' bytes, and the new file's size and CRC-32C.
    struct LogCopy {
        var recordBytes: UInt64
        var fileSize: UInt64
        var crc: UInt32
    }

    /// Copies the records of a log whose batches end at or before `sequence`, as their bytes
    /// stood when the log was opened (a record being appended then is a torn tail, dropped).
    /// Every record is read and its checksum checked to find the cut; the bytes before the cut
    /// are then copied as they are — a log is written from offset 0 by one `LogWriter`, so its
    /// prefix up to a record's end is exactly the log re-writing those records would make. The
    /// copy is synced; its checksum is computed as it is written.
    static func copyLog(
        _ source: ReadableFile, upTo sequence: SequenceNumber, to target: String, fileSystem: any FileSystem
    ) throws -> LogCopy {
        let bounded = BoundedReadableFile(source, limit: source.size)
        let reader = LogReader(file: bounded)
        var cut: UInt64 = 0
        var bytes: UInt64 = 0
        while let record = try reader.readRecord() {
            var header = ByteReader(record)
            guard let first = header.readFixed64(), let count = header.readFixed32() else {
                throw StorageError.corruption(
                    "write batch: \(record.count) bytes is shorter than the \(WriteBatchFormat.headerSize)-byte header",
                    file: source.path, offset: cut)
            }
            // Sequences grow through a log, and a group's sequences become visible together.
            if count > 0 && first + SequenceNumber(count) - 1 > sequence { break }
            cut = reader.lastRecordEnd
            bytes += UInt64(record.count)
        }
        let copy = try FileCopy.copy(BoundedReadableFile(source, limit: cut), to: target, fileSystem: fileSystem)
        return LogCopy(recordBytes: bytes, fileSize: copy.size, crc: copy.crc)
    }

    /// A hard link: tables are immutable, so the copy shares their bytes. Copies instead when
    /// the file system refuses (another device, no hard links).
    static func linkOrCopy(_ from: String, to: String, fileSystem: any FileSystem) throws {
        do {
            try fileSystem.link(from, to: to)
        } catch let e as StorageError where e.code != .notFound {
            try FileCopy.copy(from, to: to, fileSystem: fileSystem)
        }
    }

    /// Creates `directory`, or empties the one a crashed checkpoint left (it holds only files).
    static func prepareEmptyDirectory(_ directory: String, fileSystem: any FileSystem) throws {
        if fileSystem.fileExists(directory) {
            for name in try fileSystem.listDirectory(directory) {
                try fileSystem.removeFile(joinPath(directory, name))
            }
        } else {
            try fileSystem.createDirectory(directory)
        }
    }
}

/// A readable file cut at `limit` bytes: a log read while it is appended to is seen as it was.
final class BoundedReadableFile: ReadableFile, @unchecked Sendable {
    private let base: ReadableFile
    let size: UInt64
    var path: String { base.path }

    init(_ base: ReadableFile, limit: UInt64) {
        self.base = base
        size = min(limit, base.size)
    }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        guard offset < size else { return [] }
        return try base.read(at: offset, count: Int(min(UInt64(count), size - offset)))
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset < size else { return 0 }
        let n = Int(min(UInt64(buffer.count), size - offset))
        return try base.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]))
    }

    func close() {}
}
