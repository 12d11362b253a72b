import FoundationEssentials
import Glibc
import Synchronization

/// A directory of backups of one or more databases (SPEC.md §14.2):
///
///     <repo>/files/<number>-<size>-<crc32c>    table files, each stored once
///     <repo>/backups/<id>/manifest.json         a published backup (written last)
///     <repo>/backups/<id>/CURRENT, MANIFEST-*, *.log   its small files
///     <repo>/tmp/<id>/                          work directory of a backup being taken
///
/// A backup holds what a checkpoint would (`BackupRepository+Create.swift`); tables already in
/// `files/` are not stored again, so every backup after the first is incremental. Taking a
/// backup and pruning hold `<repo>/LOCK`; listing, verifying and restoring only read.
public struct BackupRepository: Sendable {
    public let path: String
    /// The file system of the repository, and of the databases backed up into it.
    let fileSystem: any FileSystem
    /// Bytes per second a backup and a verify may read (checksums) and copy; nil: as fast as
    /// the disk goes. Scheduled backups are paced so the database's writers keep the machine.
    public var rateLimit: UInt64?
    /// Hard-link immutable files (tables, closed logs) from the database into the repository
    /// when both are on one file system, instead of copying them (a copy when linking fails,
    /// e.g. across devices). A linked file shares its disk blocks with the live database: the
    /// backup survives the database deleting or rewriting it, not the disk failing.
    public var linkFiles: Bool

    public init(
        path: String, fileSystem: any FileSystem = PosixFileSystem(), rateLimit: UInt64? = nil, linkFiles: Bool = true
    ) {
        self.path = path
        self.fileSystem = fileSystem
        self.rateLimit = rateLimit
        self.linkFiles = linkFiles
    }

    var filesPath: String { joinPath(path, BackupFormat.filesDirectory) }
    var backupsPath: String { joinPath(path, BackupFormat.backupsDirectory) }
    var tempPath: String { joinPath(path, BackupFormat.tempDirectory) }
    func backupPath(_ id: String) -> String { joinPath(backupsPath, id) }
    func manifestPath(_ id: String) -> String { joinPath(backupPath(id), BackupFormat.manifestName) }

    /// The highest id of any backup directory, published or not (ids are never reused).
    func highestID() throws -> Int {
        try fileSystem.listDirectory(backupsPath).compactMap { Int($0) }.max() ?? 0
    }

    // MARK: List and read

    /// Published backups, oldest first.
    public func list() throws -> [BackupInfo] {
        guard fileSystem.fileExists(backupsPath) else { return [] }
        var result: [BackupInfo] = []
        for id in try fileSystem.listDirectory(backupsPath) where fileSystem.fileExists(manifestPath(id)) {
            result.append(BackupInfo(try manifest(id)))
        }
        return result.sorted { (Int($0.id) ?? 0, $0.id) < (Int($1.id) ?? 0, $1.id) }
    }

    public func manifest(_ id: String) throws -> BackupManifest {
        let file = manifestPath(id)
        guard !id.isEmpty, !id.contains("/"), fileSystem.fileExists(file) else {
            throw StorageError(.notFound, "no backup \(id) in \(path)", file: file)
        }
        let f = try fileSystem.openReadable(file)
        defer { f.close() }
        return try BackupManifest.decode(try f.readExactly(at: 0, count: Int(f.size)), file: file)
    }

    // MARK: Verify

    /// Re-reads every file of backup `id` and checks its size and checksum. `progress` gets the
    /// bytes checked so far after each file (for a progress bar; the total is `BackupInfo.totalBytes`).
    public func verify(_ id: String, progress: ((UInt64) -> Void)? = nil) throws -> VerifyReport {
        let m = try manifest(id)
        let pacer = CopyPacer(bytesPerSecond: rateLimit)
        var damage: [VerifyReport.Damage] = []
        var bytes: UInt64 = 0
        for file in m.files {
            let object = joinPath(path, file.object)
            guard fileSystem.fileExists(object) else {
                damage.append(.init(name: file.name, path: object, problem: .missing))
                continue
            }
            let (size, crc) = try FileCopy.checksum(object, fileSystem: fileSystem, pacer: pacer)
            bytes += size
            progress?(bytes)
            if size != file.size {
                damage.append(
                    .init(name: file.name, path: object, problem: .sizeMismatch(expected: file.size, actual: size)))
            } else if BackupFormat.hex(crc) != file.crc32c {
                damage.append(
                    .init(
                        name: file.name, path: object,
                        problem: .checksumMismatch(expected: file.crc32c, actual: BackupFormat.hex(crc))))
            }
        }
        return VerifyReport(id: id, checkedFiles: m.files.count, checkedBytes: bytes, damage: damage)
    }

    // MARK: Restore

    /// Writes backup `id` as a database in `directory`. Refuses a damaged backup (naming the
    /// file), a non-empty directory unless `overwrite`, and a directory a database holds open.
    @discardableResult
    /// `progress` gets the bytes copied so far (the backup's `totalBytes` in all; twice that
    /// when an existing database is overwritten: it is verified first, so a damaged backup
    /// never replaces it).
    public func restore(
        _ id: String, to directory: String, overwrite: Bool = false, progress: ((UInt64) -> Void)? = nil
    ) throws -> BackupInfo {
        let fs = fileSystem
        let m = try manifest(id)
        func damaged(_ d: VerifyReport.Damage, more: Int = 0) -> StorageError {
            StorageError.corruption(
                "backup \(id) is damaged: \(d.name) is \(d.problem)" + (more > 0 ? " (and \(more) more)" : ""),
                file: d.path, offset: nil)
        }
        // Missing files are refused before anything is written; checksums are checked while
        // copying (one read of the backup, not a verify pass and then a copy).
        let missing = m.files.filter { !fs.fileExists(joinPath(path, $0.object)) }
        if let f = missing.first {
            throw damaged(.init(name: f.name, path: joinPath(path, f.object), problem: .missing), more: missing.count - 1)
        }
        let existing = fs.fileExists(directory) ? try fs.listDirectory(directory) : []
        if !existing.isEmpty && !overwrite {
            throw StorageError(.invalidArgument, "restore target \(directory) is not empty", file: directory)
        }
        try fs.createDirectory(directory)
        let lock = try fs.lockFile(DBFiles.lock(directory))
        defer { lock.unlock() }
        var done: UInt64 = 0
        if existing.contains(where: { $0 != "LOCK" }) {
            let report = try verify(id, progress: progress)
            if let d = report.damage.first { throw damaged(d, more: report.damage.count - 1) }
            done = report.checkedBytes
        }
        for name in existing where name != "LOCK" { try removeTree(joinPath(directory, name)) }
        var written: [String] = []
        // CURRENT last and alone synced after the rest: until it is there, the directory is not
        // a database, so a damaged file found on the way leaves no database behind.
        let copies = m.files.filter { $0.name != "CURRENT" }
        for (i, file) in copies.enumerated() {
            let source = joinPath(path, file.object)
            let target = joinPath(directory, file.name)
            // The next file's first bytes are asked for now, so the disk has them on the way
            // when this copy ends instead of idling for its first read.
            if i + 1 < copies.count, let next = try? fs.openReadable(joinPath(path, copies[i + 1].object)) {
                next.willRead(at: 0, count: FileCopy.readAhead)
                next.close()
            }
            let (size, crc) = try restoreFile(source, to: target, link: linkFiles && file.name.hasSuffix(".sst"))
            written.append(target)
            if size != file.size || BackupFormat.hex(crc) != file.crc32c {
                for w in written { try? fs.removeFile(w) }
                let problem: VerifyReport.Problem =
                    size != file.size
                    ? .sizeMismatch(expected: file.size, actual: size)
                    : .checksumMismatch(expected: file.crc32c, actual: BackupFormat.hex(crc))
                throw damaged(.init(name: file.name, path: source, problem: problem))
            }
            done += size
            progress?(done)
        }
        try FileCopy.syncFiles(written, fileSystem: fs)
        try fs.syncDirectory(directory)
        for file in m.files where file.name == "CURRENT" {
            let source = joinPath(path, file.object)
            let target = joinPath(directory, file.name)
            let (size, crc) = try FileCopy.copy(source, to: target, fileSystem: fs)
            if size != file.size || BackupFormat.hex(crc) != file.crc32c {
                try? fs.removeFile(target)
                for w in written { try? fs.removeFile(w) }
                throw damaged(
                    .init(
                        name: file.name, path: source,
                        problem: .checksumMismatch(expected: file.crc32c, actual: BackupFormat.hex(crc))))
            }
            done += size
            progress?(done)
        }
        try fs.syncDirectory(directory)
        return BackupInfo(m)
    }

    /// Copies `source` to `target`, or with `link` (a table: never written again) checks it and
    /// hard-links it, sharing the repository's disk blocks as a linked backup shares the
    /// database's (a copy when linking fails, e.g. across devices). Returns the size and CRC-32C
    /// of the bytes read; on a mismatch the caller deletes what was written.
    private func restoreFile(_ source: String, to target: String, link: Bool) throws -> (size: UInt64, crc: UInt32) {
        let fs = fileSystem
        if link {
            let sum = try FileCopy.checksum(source, fileSystem: fs)
            do {
                try fs.link(source, to: target)
                return sum
            } catch let e as StorageError where e.code != .notFound {
                // Another device, or no hard links here: copy.
            }
        }
        return try FileCopy.copy(source, to: target, fileSystem: fs, sync: false)
    }

    // MARK: Prune

    /// Keeps the newest `keepLast` backups; deletes older ones, partial backups, work
    /// directories and every table no remaining backup refers to.
    @discardableResult
    public func prune(keepLast: Int) throws -> PruneReport {
        precondition(keepLast >= 0)
        return try prune { published in Set(published.suffix(keepLast).map(\.id)) }
    }

    /// Keeps the backups `policy` selects at `now` (seconds since 1970); deletes the rest as
    /// `prune(keepLast:)` does.
    @discardableResult
    public func prune(policy: RetentionPolicy, now: Int64) throws -> PruneReport {
        try prune { published in policy.select(published, now: now) }
    }

    /// Deletes every published backup whose id `keep` (given the published ones, oldest first)
    /// leaves out, then partial backups, work directories and unreferenced table files.
    @discardableResult
    public func prune(keeping keep: ([BackupInfo]) throws -> Set<String>) throws -> PruneReport {
        let fs = fileSystem
        guard fs.fileExists(path) else { return PruneReport(removedBackups: [], removedFiles: 0, removedPartials: 0) }
        let lock = try fs.lockFile(joinPath(path, BackupFormat.lockName))
        defer { lock.unlock() }
        let published = try list()
        let kept = try keep(published)
        let removed = published.filter { !kept.contains($0.id) }
        for b in removed {
            // Unpublish first: a crash mid-way leaves a partial backup, which the next prune removes.
            try fs.removeFile(manifestPath(b.id))
            try removeTree(backupPath(b.id))
        }
        var partials = 0
        if fs.fileExists(backupsPath) {
            for id in try fs.listDirectory(backupsPath) where !fs.fileExists(manifestPath(id)) {
                try removeTree(backupPath(id))
                partials += 1
            }
        }
        if fs.fileExists(tempPath) {
            for name in try fs.listDirectory(tempPath) {
                try removeTree(joinPath(tempPath, name))
                partials += 1
            }
        }
        var referenced = Set<String>()
        for b in try list() {
            for f in try manifest(b.id).files { referenced.insert(f.object) }
        }
        var files = 0
        if fs.fileExists(filesPath) {
            for name in try fs.listDirectory(filesPath)
            where !referenced.contains(joinPath(BackupFormat.filesDirectory, name)) {
                try fs.removeFile(joinPath(filesPath, name))
                files += 1
            }
            try fs.syncDirectory(filesPath)
        }
        return PruneReport(removedBackups: removed.map(\.id), removedFiles: files, removedPartials: partials)
    }

    /// Deletes a file or a directory tree (the file-system seam has no directory removal; a
    /// repository lives on a real file system).
    func removeTree(_ p: String) throws {
        guard fileSystem.fileExists(p) else { return }
        do {
            try FileManager.default.removeItem(atPath: p)
        } catch {
            throw StorageError(.io, "cannot remove \(p): \(error)", file: p)
        }
    }
}
