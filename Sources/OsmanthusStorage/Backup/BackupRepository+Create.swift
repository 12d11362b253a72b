import FoundationEssentials
import Glibc
import Synchronization

/// Taking a backup (SPEC.md §14.2): the files a checkpoint (§14.1) would hold, stored straight
/// into the repository. Under the database's monitor only the pin (a version, a snapshot, the
/// open logs); then immutable files — the version's tables and the logs closed before the pin —
/// are hard-linked (or copied) into the repository, the active log's records up to the pinned
/// sequence are copied once, and a manifest of the pinned version is written. No checkpoint
/// directory in between, nothing read twice, and the snapshot released as soon as it is taken
/// (the pinned version alone keeps the tables), so compaction is never held back by a backup.
extension BackupRepository {
    /// Takes a backup of `db` while it keeps running, and publishes it.
    @discardableResult
    public func create(from db: DB) throws -> BackupInfo {
        try createReportingWork(from: db).info
    }

    /// `create`, also telling what the backup cost (`BackupWork`).
    public func createReportingWork(from db: DB) throws -> (info: BackupInfo, work: BackupWork) {
        let (info, _, work) = try onBackupThread { [self] in try createOnThisThread(from: db, keepSnapshot: false) }
        return (info, work)
    }

    /// `create`, also returning a snapshot of the source at the backup's sequence (the caller
    /// releases it).
    func createPinningSnapshot(from db: DB) throws -> (BackupInfo, Snapshot) {
        let (info, snapshot, _) = try onBackupThread { [self] in try createOnThisThread(from: db, keepSnapshot: true) }
        guard let snapshot else { throw StorageError(.io, "backup kept no snapshot") }
        return (info, snapshot)
    }

    /// Runs `body` on a thread of its own at a low CPU priority (nice 10), so on a busy machine
    /// the database's own writers come first (SPEC.md §14.2).
    private func onBackupThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let thread = BackgroundThread(name: "osm-backup") {
            // Linux keeps nice values per thread: this lowers only the backup's thread.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            let r = Result { try body() }
            outcome.withLock { $0 = r }
        }
        thread.join()
        guard let r = outcome.withLock({ $0 }) else { throw StorageError(.io, "backup thread ended without a result") }
        return try r.get()
    }

    private func createOnThisThread(from db: DB, keepSnapshot: Bool) throws -> (BackupInfo, Snapshot?, BackupWork) {
        let wallStart = monotonicNanos()
        let cpuStart = BackupWork.threadCPUNanos()
        var work = BackupWork()
        let fs = fileSystem
        for d in [path, filesPath, backupsPath, tempPath] { try fs.createDirectory(d) }
        let lock = try fs.lockFile(joinPath(path, BackupFormat.lockName))
        defer { lock.unlock() }

        let id = BackupFormat.id(try highestID() + 1)
        let workDirectory = joinPath(tempPath, id)
        try removeTree(workDirectory)
        try fs.createDirectory(workDirectory)
        let target = backupPath(id)
        try removeTree(target)
        try fs.createDirectory(target)

        let pin = try db.pinForCheckpoint()
        defer { pin.closeLogs() }
        work.monitorNanoseconds = pin.monitorNanos
        var snapshot: Snapshot? = pin.snapshot
        if !keepSnapshot {
            pin.snapshot.release()
            snapshot = nil
        }
        var failed = true
        defer { if failed { snapshot?.release() } }
        let pacer = CopyPacer(bytesPerSecond: rateLimit)
        let store = ImmutableFileStore(repository: self, workDirectory: workDirectory, pacer: pacer)

        var files: [BackupManifest.File] = []
        var added = 0
        var linked = 0
        var reused = 0
        // The pinned version keeps every table from deletion until the pin is dropped.
        for table in pin.version.levels.flatMap({ $0 }) {
            let name = DBFiles.number(table.number) + ".sst"
            let source = DBFiles.table(db.path, table.number)
            // The checksum recorded when the table was written (manifest format 2) names it
            // without a read; a table of an older manifest is read once per process.
            let size: UInt64
            let crc: UInt32
            if let recorded = table.crc32c {
                (size, crc) = (table.size, recorded)
            } else {
                let sum = try TableChecksumCache.checksum(source, fileSystem: fs, pacer: pacer)
                if sum.wasRead { work.bytesChecksummed += sum.size }
                (size, crc) = (sum.size, sum.crc)
            }
            let object = joinPath(
                BackupFormat.filesDirectory, BackupFormat.objectName(fileNumber: table.number, size: size, crc: crc))
            if fs.fileExists(joinPath(path, object)) {
                reused += 1
            } else {
                let how = try store.put(
                    source, at: object, size: size, crc: crc, crcWasRecorded: table.crc32c != nil, work: &work)
                if how == .linked { linked += 1 }
                added += 1
            }
            files.append(.init(name: name, size: size, crc32c: BackupFormat.hex(crc), object: object))
        }
        let backupDirectory = joinPath(BackupFormat.backupsDirectory, id)
        for (number, log) in pin.logs {
            let name = DBFiles.number(number) + ".log"
            let object = joinPath(backupDirectory, name)
            if pin.isSealed(number) {
                // Closed whole before the pin and never written again, but (unlike a table) not
                // kept by the pin: a flush finishing now deletes it. Linked while its name is
                // there (log numbers are never reused), else copied from the handle opened at
                // the pin; checksummed through the repository's own name either way.
                let destination = joinPath(path, object)
                if linkFiles, (try? fs.link(DBFiles.log(db.path, number), to: destination)) != nil {
                    let sum = try TableChecksumCache.checksum(destination, fileSystem: fs, pacer: pacer)
                    if sum.wasRead { work.bytesChecksummed += sum.size }
                    work.filesLinked += 1
                    files.append(.init(name: name, size: sum.size, crc32c: BackupFormat.hex(sum.crc), object: object))
                } else {
                    let copy = try FileCopy.copy(log, to: destination, fileSystem: fs, pacer: pacer)
                    work.filesCopied += 1
                    work.bytesWritten += copy.size
                    work.fileSyncs += 1
                    files.append(.init(name: name, size: copy.size, crc32c: BackupFormat.hex(copy.crc), object: object))
                }
            } else {
                // The active log: its records up to the pinned sequence, copied once.
                let copy = try DB.copyLog(log, upTo: pin.sequence, to: joinPath(path, object), fileSystem: fs)
                pacer?.moved(Int(copy.fileSize))
                work.logBytesCopied += copy.recordBytes
                work.bytesWritten += copy.fileSize
                work.fileSyncs += 1
                files.append(.init(name: name, size: copy.fileSize, crc32c: BackupFormat.hex(copy.crc), object: object))
            }
        }
        // MANIFEST-M and CURRENT of the pinned version; writing CURRENT syncs the directory,
        // making the logs linked into it durable too.
        try db.writeManifest(of: pin, to: target)
        work.fileSyncs += 2
        work.directorySyncs += 1
        for name in [DBFiles.number(pin.manifestNumber), "CURRENT"] {
            let fileName = name == "CURRENT" ? name : "MANIFEST-" + name
            let object = joinPath(backupDirectory, fileName)
            let sum = try FileCopy.checksum(joinPath(path, object), fileSystem: fs)
            work.bytesWritten += sum.size
            files.append(.init(name: fileName, size: sum.size, crc32c: BackupFormat.hex(sum.crc), object: object))
        }
        withExtendedLifetime(pin) {}
        if added > 0 {
            try fs.syncDirectory(filesPath)
            work.directorySyncs += 1
        }

        let manifest = BackupManifest(
            formatVersion: BackupFormat.version, id: id, createdAt: Int64(Date().timeIntervalSince1970),
            sequence: pin.sequence, copiedFiles: added, linkedFiles: linked, reusedFiles: reused, files: files)
        // Publishing: until manifest.json is in place the backup does not exist.
        let temp = joinPath(target, BackupFormat.manifestName + ".tmp")
        let out = try fs.createWritable(temp)
        let encoded = try manifest.encoded()
        try out.append(encoded)
        try out.sync()
        try out.close()
        try fs.rename(temp, to: manifestPath(id))
        try fs.syncDirectory(target)
        try fs.syncDirectory(backupsPath)
        work.bytesWritten += UInt64(encoded.count)
        work.fileSyncs += 1
        work.directorySyncs += 2
        try removeTree(workDirectory)
        failed = false
        work.cpuNanoseconds = BackupWork.threadCPUNanos() - cpuStart
        work.wallNanoseconds = monotonicNanos() - wallStart
        return (BackupInfo(manifest), snapshot, work)
    }
}

/// Puts an immutable file of the database into the repository: a hard link when the
/// repository allows it and the file system agrees, else a copy through `<work>/<name>.part`,
/// synced and renamed into place. A table whose checksum was recorded as it was written is
/// copied inside the kernel, its bytes never read here (verify and restore check them against
/// that checksum); one whose checksum was computed just now is copied in user space and checked
/// against it, as the file could only have been read for that.
private struct ImmutableFileStore {
    enum Outcome { case linked, copied }

    let repository: BackupRepository
    let workDirectory: String
    let pacer: CopyPacer?

    func put(
        _ source: String, at object: String, size: UInt64, crc: UInt32, crcWasRecorded: Bool, work: inout BackupWork
    ) throws -> Outcome {
        let fs = repository.fileSystem
        let destination = joinPath(repository.path, object)
        if repository.linkFiles {
            do {
                try fs.link(source, to: destination)
                work.filesLinked += 1
                return .linked
            } catch let e as StorageError where e.code != .notFound {
                // Another device, or no hard links here: copy.
            }
        }
        let part = joinPath(workDirectory, (source.split(separator: "/").last.map(String.init) ?? "file") + ".part")
        if crcWasRecorded {
            let copied = try FileCopy.copyInKernel(source, to: part, fileSystem: fs, pacer: pacer)
            guard copied == size else {
                try? fs.removeFile(part)
                throw StorageError(.io, "\(source) has \(copied) bytes, its manifest says \(size)", file: source)
            }
        } else {
            let copy = try FileCopy.copy(source, to: part, fileSystem: fs, pacer: pacer)
            guard copy == (size, crc) else {
                try? fs.removeFile(part)
                throw StorageError(.io, "\(source) changed while it was copied", file: source)
            }
        }
        try fs.rename(part, to: destination)
        work.filesCopied += 1
        work.bytesWritten += size
        work.fileSyncs += 1
        return .copied
    }
}
