import FoundationEssentials
import OsmanthusStorage

/// A backup repository in an S3 bucket under a prefix, with the local repository's layout
/// (SPEC.md §14.8): `<prefix>/files/<table object>`, `<prefix>/backups/<id>/<small files>`,
/// `<prefix>/backups/<id>/manifest.json` uploaded last. Backups are taken locally
/// (`BackupRepository.create`) and pushed; tables already in the bucket are not uploaded again.
public struct S3Repository: Sendable {
    public let client: S3Client
    /// Without leading or trailing slash; may be empty.
    public let prefix: String

    public init(client: S3Client, prefix: String) {
        self.client = client
        var p = Substring(prefix)
        while p.hasPrefix("/") { p = p.dropFirst() }
        while p.hasSuffix("/") { p = p.dropLast() }
        self.prefix = String(p)
    }

    /// `s3://bucket/prefix`, for logs and status replies.
    public var url: String { "s3://\(client.bucket)" + (prefix.isEmpty ? "" : "/" + prefix) }

    func key(_ relative: String) -> String { prefix.isEmpty ? relative : prefix + "/" + relative }
    func manifestKey(_ id: String) -> String { key("backups/\(id)/manifest.json") }

    /// Uploads backup `id` of `local`; returns the objects uploaded (the manifest included) and
    /// skipped (stored already), and the keys of the files uploaded.
    @discardableResult
    public func push(_ id: String, from local: BackupRepository) throws -> (uploaded: Int, skipped: Int, keys: Set<String>) {
        let manifest = try local.manifest(id)
        let stored = Set(try client.list(prefix: key("files/")).map(\.key))
        var keys = Set<String>()
        var skipped = 0
        for file in manifest.files {
            let k = key(file.object)
            if file.object.hasPrefix("files/") && stored.contains(k) {
                skipped += 1
                continue
            }
            try client.put(k, try read(local.path + "/" + file.object))
            keys.insert(k)
        }
        // Published last: until the manifest is there, the backup does not exist.
        try client.put(manifestKey(id), try manifest.encoded())
        return (keys.count + 1, skipped, keys)
    }

    /// Checks backup `id` in the bucket the way a scheduled push does: every object it names is
    /// listed with the manifest's size, and the objects in `download` (those just uploaded) are
    /// downloaded and their CRC-32C checked. Objects uploaded and checked by an earlier push are
    /// not downloaded again: each object is read back once, after its upload.
    public func verify(_ id: String, downloading download: Set<String>) throws -> VerifyReport {
        let m = try manifest(id)
        var listed: [String: UInt64] = [:]
        for p in [key("files/"), key("backups/\(id)/")] {
            for (k, size) in try client.list(prefix: p) { listed[k] = size }
        }
        var damage: [VerifyReport.Damage] = []
        var bytes: UInt64 = 0
        for file in m.files {
            let k = key(file.object)
            guard let size = listed[k] else {
                damage.append(.init(name: file.name, path: k, problem: .missing))
                continue
            }
            if size != file.size {
                damage.append(.init(name: file.name, path: k, problem: .sizeMismatch(expected: file.size, actual: size)))
                continue
            }
            guard download.contains(k) else { continue }
            guard let data = try client.get(k) else {
                damage.append(.init(name: file.name, path: k, problem: .missing))
                continue
            }
            bytes += UInt64(data.count)
            if let problem = Self.problem(data, file) { damage.append(.init(name: file.name, path: k, problem: problem)) }
        }
        return VerifyReport(id: id, checkedFiles: m.files.count, checkedBytes: bytes, damage: damage)
    }

    func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StorageError(.notFound, "cannot read \(path)", file: path)
        }
        return Array(data)
    }

    public func manifest(_ id: String) throws -> BackupManifest {
        guard let bytes = try client.get(manifestKey(id)) else {
            throw StorageError(.notFound, "no backup \(id) in s3://\(client.bucket)/\(prefix)")
        }
        return try BackupManifest.decode(bytes, file: manifestKey(id))
    }

    /// Published backups, oldest first.
    public func list() throws -> [BackupInfo] {
        let suffix = "/manifest.json"
        let ids = try client.list(prefix: key("backups/")).map(\.key).filter { $0.hasSuffix(suffix) }.compactMap {
            $0.dropLast(suffix.count).split(separator: "/").last.map(String.init)
        }
        return try ids.map { BackupInfo(try manifest($0)) }.sorted { (Int($0.id) ?? 0, $0.id) < (Int($1.id) ?? 0, $1.id) }
    }

    /// Downloads every object of backup `id` and checks sizes and checksums.
    public func verify(_ id: String) throws -> VerifyReport {
        let m = try manifest(id)
        var damage: [VerifyReport.Damage] = []
        var bytes: UInt64 = 0
        for file in m.files {
            let k = key(file.object)
            guard let data = try client.get(k) else {
                damage.append(.init(name: file.name, path: k, problem: .missing))
                continue
            }
            bytes += UInt64(data.count)
            if let problem = Self.problem(data, file) { damage.append(.init(name: file.name, path: k, problem: problem)) }
        }
        return VerifyReport(id: id, checkedFiles: m.files.count, checkedBytes: bytes, damage: damage)
    }

    static func problem(_ data: [UInt8], _ file: BackupManifest.File) -> VerifyReport.Problem? {
        if UInt64(data.count) != file.size { return .sizeMismatch(expected: file.size, actual: UInt64(data.count)) }
        let crc = data.withUnsafeBytes { CRC32C.checksum($0) }
        let digits = String(crc, radix: 16)
        let actual = String(repeating: "0", count: 8 - digits.count) + digits
        return actual == file.crc32c ? nil : .checksumMismatch(expected: file.crc32c, actual: actual)
    }

    /// Downloads backup `id` into `directory` (missing or empty), checking every object;
    /// `CURRENT` last, so a damaged backup never leaves a database behind.
    @discardableResult
    public func restore(_ id: String, to directory: String) throws -> BackupInfo {
        let m = try manifest(id)
        let fm = FileManager.default
        if fm.fileExists(atPath: directory), !(try fm.contentsOfDirectory(atPath: directory)).isEmpty {
            throw StorageError(.invalidArgument, "restore target \(directory) is not empty", file: directory)
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ordered = m.files.filter { $0.name != "CURRENT" } + m.files.filter { $0.name == "CURRENT" }
        for file in ordered {
            let k = key(file.object)
            guard let data = try client.get(k) else {
                throw StorageError.corruption("backup \(id) is damaged: \(file.name) is missing", file: k, offset: nil)
            }
            if let problem = Self.problem(data, file) {
                throw StorageError.corruption("backup \(id) is damaged: \(file.name) is \(problem)", file: k, offset: nil)
            }
            let out = try PosixFileSystem().createWritable(directory + "/" + file.name)
            try out.append(data)
            try out.sync()
            try out.close()
        }
        try PosixFileSystem().syncDirectory(directory)
        return BackupInfo(m)
    }

    /// Deletes the backups `keep` leaves out (manifest first), partial backups, and every
    /// table object no remaining manifest names.
    @discardableResult
    public func prune(keeping keep: ([BackupInfo]) throws -> Set<String>) throws -> PruneReport {
        let published = try list()
        let kept = try keep(published)
        let removed = published.filter { !kept.contains($0.id) }
        for b in removed { try client.delete(manifestKey(b.id)) }
        let backupKeys = try client.list(prefix: key("backups/")).map(\.key)
        let keptIDs = Set(published.map(\.id)).intersection(kept)
        var partials = Set<String>()
        for k in backupKeys {
            let parts = k.dropFirst(key("backups/").count).split(separator: "/")
            guard let id = parts.first.map(String.init), !keptIDs.contains(id) else { continue }
            if !removed.contains(where: { $0.id == id }) { partials.insert(id) }
            try client.delete(k)
        }
        var referenced = Set<String>()
        for id in keptIDs { for f in try manifest(id).files { referenced.insert(key(f.object)) } }
        var files = 0
        for (k, _) in try client.list(prefix: key("files/")) where !referenced.contains(k) {
            try client.delete(k)
            files += 1
        }
        return PruneReport(removedBackups: removed.map(\.id), removedFiles: files, removedPartials: partials.count)
    }
}
