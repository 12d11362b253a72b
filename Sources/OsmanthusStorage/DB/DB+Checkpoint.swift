/// Online checkpoints: a consistent copy of the database in another directory, taken while
/// writes go on (SPEC.md §14.1).
///
/// Under the monitor, briefly: pin the current version (keeping its tables from deletion), a
/// snapshot at the last visible sequence, the manifest's log number and two file numbers for the
/// copy's manifest. Then, without the lock: hard-link every table of the pinned version (a copy
/// when linking fails, e.g. across devices), copy the live logs' records up to the pinned
/// sequence, write a one-edit manifest and CURRENT, sync, and rename `<target>.tmp` to the target.
/// The cost is the links plus the logs (at most two memtables' worth), not the data size.
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
                logBytes += try Self.copyLog(
                    file, upTo: pin.sequence, to: DBFiles.log(temp, number), fileSystem: fs)
            }
            let edit = VersionSet.snapshotEdit(
                version: pin.version, logNumber: pin.logNumber, nextFileNumber: pin.tempNumber + 1,
                lastSequence: pin.sequence, compactPointers: pin.compactPointers)
            try VersionSet.writeManifest(
                edit, directory: temp, fileSystem: fs, manifestNumber: pin.manifestNumber, tempNumber: pin.tempNumber)
            try fs.syncDirectory(temp)
            try fs.rename(temp, to: target)
            try fs.syncDirectory(Self.parentDirectory(of: target))
            for (_, file) in pin.logs { file.close() }
            let info = CheckpointInfo(
                sequence: pin.sequence, tableCount: pin.version.allFileNumbers.count, tableBytes: tableBytes,
                logBytes: logBytes)
            return (info, pin.snapshot)
        } catch {
            for (_, file) in pin.logs { file.close() }
            pin.snapshot.release()
            throw error
        }
    }

    private struct CheckpointPin {
        let version: Version
        let snapshot: Snapshot
        var sequence: SequenceNumber { snapshot.sequence }
        let logNumber: UInt64
        let compactPointers: [[UInt8]?]
        let manifestNumber: UInt64
        let tempNumber: UInt64
        /// Every log the manifest has not absorbed, opened before any could be deleted.
        var logs: [(UInt64, ReadableFile)]
    }

    /// Pins what the checkpoint copies. A log is deleted only after the manifest's log number
    /// passes it, so if that number is unchanged once the logs are open, every log the pinned
    /// state needs was opened; otherwise a flush finished in between, and the pin is retaken.
    private func pinForCheckpoint() throws -> CheckpointPin {
        while true {
            var pin = try monitor.withLock { () throws -> (CheckpointPin, UInt64) in
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
                    logs: [])
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
            let logNumber = monitor.withLock { versions.logNumber }
            if complete && logNumber == pin.0.logNumber {
                pin.0.logs.sort { $0.0 < $1.0 }
                return pin.0
            }
            for (_, file) in pin.0.logs { file.close() }
            pin.0.snapshot.release()
        }
    }

    /// Copies the records of a log whose batches end at or before `sequence`, as their bytes
    /// stood when the log was opened (a record being appended then is a torn tail, dropped).
    static func copyLog(
        _ source: ReadableFile, upTo sequence: SequenceNumber, to target: String, fileSystem: any FileSystem
    ) throws -> UInt64 {
        let reader = LogReader(file: BoundedReadableFile(source, limit: source.size))
        let writer = LogWriter(file: try fileSystem.createWritable(target))
        var bytes: UInt64 = 0
        do {
            var offset: UInt64 = 0
            while let record = try reader.readRecord() {
                let batch = try WriteBatch(decoding: record, file: source.path, offset: offset)
                offset = reader.lastRecordEnd
                // Sequences grow through a log, and a group's sequences become visible together.
                if batch.count > 0 && batch.sequence + SequenceNumber(batch.count) - 1 > sequence { break }
                try writer.addRecord(record)
                bytes += UInt64(record.count)
            }
            try writer.sync()
            try writer.close()
        } catch {
            try? writer.close()
            throw error
        }
        return bytes
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

    func close() {}
}
