/// The database's durable metadata: the current version, the file-number counter, the last
/// sequence and the live log number, kept in a manifest file of version edits (SPEC.md §8).
///
/// Fields marked "guarded by the DB monitor" are read and written only while holding the owning
/// database's monitor. `logAndApply` must be called without it; calls are serialized by
/// `manifestLock`, so a base version read at the start of one call is still current at its end.
final class VersionSet: @unchecked Sendable {
    /// The format this build writes and the newest it reads (one constant: `ManifestFormat`).
    static let formatVersion: UInt32 = ManifestFormat.version
    /// A manifest larger than this is rewritten as one snapshot edit into a new file.
    static let manifestRotationSize: UInt64 = 8 << 20

    let directory: String
    let fileSystem: any FileSystem

    // Guarded by the DB monitor.
    var current: Version = .empty
    var nextFileNumber: UInt64 = 2
    var lastSequence: SequenceNumber = 0
    var logNumber: UInt64 = 0
    var compactPointers: [[UInt8]?] = Array(repeating: nil, count: Limits.numberOfLevels)
    var manifestNumber: UInt64 = 0
    /// Set by `recover` when the manifest ended in damage it took for a torn write: where the
    /// dropped bytes start. Recovery checks that nothing depended on the edits lost there.
    var droppedManifestTail: UInt64?

    // Guarded by manifestLock: the open manifest (nil after a failed write, so the next edit
    // starts a fresh manifest instead of appending after a possibly torn record).
    private let manifestLock = Monitor()
    private var manifest: LogWriter?

    init(directory: String, fileSystem: any FileSystem) {
        self.directory = directory
        self.fileSystem = fileSystem
    }

    /// Caller holds the DB monitor.
    func newFileNumber() -> UInt64 {
        defer { nextFileNumber += 1 }
        return nextFileNumber
    }

    // MARK: Recovery

    /// Reads CURRENT and the manifest it names, rebuilding the last durable state.
    func recover() throws {
        let currentPath = DBFiles.current(directory)
        let file = try fileSystem.openReadable(currentPath)
        let text = try file.read(at: 0, count: Int(min(file.size, 4096)))
        file.close()
        guard text.last == UInt8(ascii: "\n"),
            let name = String(validating: text.dropLast(), as: UTF8.self),
            case .manifest(let number)? = DBFiles.parse(name)
        else {
            throw StorageError.corruption("CURRENT does not name a manifest", file: currentPath, offset: 0)
        }
        let path = joinPath(directory, name)
        guard fileSystem.fileExists(path) else {
            throw StorageError.corruption("CURRENT names \(name), which does not exist", file: currentPath, offset: 0)
        }
        let reader = LogReader(file: try fileSystem.openReadable(path))
        var version = Version.empty
        var sawLog = false
        var sawNext = false
        var sawSequence = false
        var pointers = compactPointers
        var recordStart: UInt64 = 0
        while let record = try reader.readRecord() {
            let edit = try VersionEdit.decode(record, file: path, offset: recordStart)
            recordStart = reader.lastRecordEnd
            if let v = edit.formatVersion, v > Self.formatVersion {
                throw StorageError(
                    .unsupported, "manifest format version \(v) is newer than this build reads (\(Self.formatVersion))",
                    file: path)
            }
            version = try version.applying(edit, manifest: path)
            if let n = edit.logNumber { logNumber = n; sawLog = true }
            if let n = edit.nextFileNumber { nextFileNumber = n; sawNext = true }
            if let s = edit.lastSequence { lastSequence = s; sawSequence = true }
            for (level, key) in edit.compactPointers { pointers[level] = key }
        }
        guard sawLog && sawNext && sawSequence else {
            throw StorageError.corruption(
                "manifest lacks its log number, next file number or last sequence", file: path, offset: 0)
        }
        current = version
        compactPointers = pointers
        manifestNumber = number
        droppedManifestTail = reader.droppedTailBytes > 0 ? reader.lastRecordEnd : nil
        // Never reuse a number that appears in the directory, even if the manifest lags.
        nextFileNumber = max(nextFileNumber, number + 1)
    }

    // MARK: Writing

    /// The whole state as one edit: the first record of every new manifest.
    /// Caller holds the DB monitor.
    private func snapshotEdit() -> VersionEdit {
        Self.snapshotEdit(
            version: current, logNumber: logNumber, nextFileNumber: nextFileNumber, lastSequence: lastSequence,
            compactPointers: compactPointers)
    }

    /// A whole state as one edit (a new manifest's first record; also a checkpoint's manifest).
    static func snapshotEdit(
        version: Version, logNumber: UInt64, nextFileNumber: UInt64, lastSequence: SequenceNumber,
        compactPointers: [[UInt8]?]
    ) -> VersionEdit {
        var edit = VersionEdit()
        edit.formatVersion = formatVersion
        edit.logNumber = logNumber
        edit.nextFileNumber = nextFileNumber
        edit.lastSequence = lastSequence
        for (level, key) in compactPointers.enumerated() {
            if let key { edit.compactPointers.append((level: level, key: key)) }
        }
        for (level, files) in version.levels.enumerated() {
            for f in files { edit.newFiles.append((level: level, file: f)) }
        }
        return edit
    }

    /// Writes a fresh manifest holding the current state and points CURRENT at it.
    /// Caller holds `manifestLock`, or is the only thread (open). Takes the DB monitor itself.
    private func startNewManifest(monitor: Monitor) throws {
        let (number, edit, tempNumber) = monitor.withLock { () -> (UInt64, VersionEdit, UInt64) in
            let n = newFileNumber()
            let t = newFileNumber()
            return (n, snapshotEdit(), t)
        }
        let path = DBFiles.manifest(directory, number)
        let writer = LogWriter(file: try fileSystem.createWritable(path))
        do {
            try writer.addRecord(edit.encode())
            try writer.sync()
            try setCurrent(manifestNumber: number, tempNumber: tempNumber)
        } catch {
            try? writer.close()
            try? fileSystem.removeFile(path)
            throw error
        }
        let old = monitor.withLock { () -> UInt64 in
            defer { manifestNumber = number }
            return manifestNumber
        }
        try? manifest?.close()
        manifest = writer
        if old != 0 && old != number { try? fileSystem.removeFile(DBFiles.manifest(directory, old)) }
    }

    /// CURRENT is replaced atomically: write a temp file, sync it, rename, sync the directory.
    private func setCurrent(manifestNumber: UInt64, tempNumber: UInt64) throws {
        try Self.setCurrent(directory: directory, fileSystem: fileSystem, manifestNumber: manifestNumber, tempNumber: tempNumber)
    }

    static func setCurrent(directory: String, fileSystem: any FileSystem, manifestNumber: UInt64, tempNumber: UInt64) throws {
        let temp = DBFiles.temp(directory, tempNumber)
        let f = try fileSystem.createWritable(temp)
        do {
            try f.append(Array(("MANIFEST-" + DBFiles.number(manifestNumber) + "\n").utf8))
            try f.sync()
            try f.close()
            try fileSystem.rename(temp, to: DBFiles.current(directory))
            try fileSystem.syncDirectory(directory)
        } catch {
            try? fileSystem.removeFile(temp)
            throw error
        }
    }

    /// Starts the manifest of a database being opened (after recovery or creation).
    func openManifest(monitor: Monitor) throws {
        try manifestLock.withLock { try startNewManifest(monitor: monitor) }
    }

    /// Records `edit` durably, then installs the version it makes. On failure nothing is
    /// installed and the error is returned; the current manifest is abandoned.
    /// Caller must not hold `monitor`. `installed` runs under `monitor` in the same critical
    /// section that makes the new version current, so no other thread can see the version
    /// before the caller has registered it.
    func logAndApply(_ edit: VersionEdit, monitor: Monitor, installed: (Version) -> Void) throws {
        try manifestLock.withLock {
            if manifest == nil || (manifest?.file.size ?? 0) > Self.manifestRotationSize {
                try startNewManifest(monitor: monitor)
            }
            guard let writer = manifest else { return }
            var edit = edit
            let base = monitor.withLock { () -> Version in
                edit.nextFileNumber = nextFileNumber
                edit.lastSequence = lastSequence
                if let n = edit.logNumber { precondition(n >= logNumber) }
                return current
            }
            let next = try base.applying(edit)
            do {
                try writer.addRecord(edit.encode())
                try writer.sync()
            } catch {
                try? writer.close()
                manifest = nil
                throw error
            }
            monitor.withLock {
                current = next
                if let n = edit.logNumber { logNumber = n }
                for (level, key) in edit.compactPointers { compactPointers[level] = key }
                installed(next)
            }
        }
    }

    func close() {
        manifestLock.withLock {
            try? manifest?.close()
            manifest = nil
        }
    }

    /// Creates the files of an empty database: a first manifest and CURRENT.
    static func create(directory: String, fileSystem: any FileSystem) throws {
        var edit = VersionEdit()
        edit.formatVersion = formatVersion
        edit.logNumber = 0
        edit.nextFileNumber = 3
        edit.lastSequence = 0
        try writeManifest(edit, directory: directory, fileSystem: fileSystem, manifestNumber: 1, tempNumber: 2)
    }

    /// Writes `MANIFEST-<manifestNumber>` holding the one edit `edit`, syncs it, and points
    /// CURRENT at it (a new database, or a checkpoint).
    static func writeManifest(
        _ edit: VersionEdit, directory: String, fileSystem: any FileSystem, manifestNumber: UInt64, tempNumber: UInt64
    ) throws {
        let path = DBFiles.manifest(directory, manifestNumber)
        let writer = LogWriter(file: try fileSystem.createWritable(path))
        try writer.addRecord(edit.encode())
        try writer.sync()
        try writer.close()
        try setCurrent(directory: directory, fileSystem: fileSystem, manifestNumber: manifestNumber, tempNumber: tempNumber)
    }
}
