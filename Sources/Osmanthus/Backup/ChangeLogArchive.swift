import FoundationEssentials
import OsmanthusStorage

/// The archived change log inside a backup repository: `<repo>/changelog/*.seg` (SPEC.md §14.9).
/// Segments are written under a temporary name and renamed, so a partial one is never seen.
public struct ChangeLogArchive: Sendable {
    public let repository: String
    let fileSystem: any FileSystem

    public init(repository: String, fileSystem: any FileSystem = PosixFileSystem()) {
        self.repository = repository
        self.fileSystem = fileSystem
    }

    var directory: String { joinPath(repository, ChangeLogSegment.directory) }

    /// A segment file as named: its range, without reading it.
    public struct SegmentName: Sendable, Equatable {
        public let name: String
        public let from: UInt64
        public let through: UInt64
        public var path: String
    }

    /// Published segments, by `from`.
    public func segmentNames() throws -> [SegmentName] {
        guard fileSystem.fileExists(directory) else { return [] }
        return try fileSystem.listDirectory(directory).compactMap { name in
            ChangeLogSegment.parseName(name).map {
                SegmentName(name: name, from: $0.0, through: $0.1, path: joinPath(directory, name))
            }
        }.sorted { ($0.from, $0.through) < ($1.from, $1.through) }
    }

    /// The highest sequence the archive covers (0: nothing archived).
    public func archivedThrough() throws -> UInt64 {
        try segmentNames().map(\.through).max() ?? 0
    }

    func read(_ segment: SegmentName) throws -> ChangeLogSegment {
        let f = try fileSystem.openReadable(segment.path)
        defer { f.close() }
        let s = try ChangeLogSegment(decoding: try f.readExactly(at: 0, count: Int(f.size)), file: segment.path)
        guard s.from == segment.from, s.through == segment.through else {
            throw StorageError.corruption("change-log segment's range differs from its name", file: segment.path, offset: 8)
        }
        return s
    }

    /// Writes `segment` durably and publishes it by rename.
    func write(_ segment: ChangeLogSegment) throws {
        try fileSystem.createDirectory(repository)
        try fileSystem.createDirectory(directory)
        let name = ChangeLogSegment.fileName(from: segment.from, through: segment.through)
        let temp = joinPath(directory, name + ".tmp")
        let out = try fileSystem.createWritable(temp)
        try out.append(segment.encoded())
        try out.sync()
        try out.close()
        try fileSystem.rename(temp, to: joinPath(directory, name))
        try fileSystem.syncDirectory(directory)
    }

    // MARK: HEAD

    var headPath: String { joinPath(directory, ChangeLogSegment.headName) }

    /// `changelog/HEAD`: at `checkedAtMillis` the archive held every record up to `through`.
    /// Rewritten by every pass, also one that found nothing new, so an idle database's archive
    /// still reaches the present (SPEC.md §14.9).
    func writeHead(through: UInt64, checkedAtMillis: Int64) throws {
        try fileSystem.createDirectory(repository)
        try fileSystem.createDirectory(directory)
        var bytes: [UInt8] = []
        bytes.appendFixed64(through)
        bytes.appendFixed64(UInt64(bitPattern: checkedAtMillis))
        bytes.appendFixed32(CRC32C.mask(CRC32C.checksum(bytes)))
        let temp = headPath + ".tmp"
        let out = try fileSystem.createWritable(temp)
        try out.append(bytes)
        try out.sync()
        try out.close()
        try fileSystem.rename(temp, to: headPath)
    }

    /// nil when there is no HEAD; a damaged one is `.corruption`.
    func readHead() throws -> (through: UInt64, checkedAtMillis: Int64)? {
        guard fileSystem.fileExists(headPath) else { return nil }
        let f = try fileSystem.openReadable(headPath)
        defer { f.close() }
        let bytes = try f.readExactly(at: 0, count: Int(f.size))
        guard bytes.count == 20, CRC32C.unmask(bytes.loadFixed32(at: 16)) == CRC32C.checksum(bytes[..<16]) else {
            throw StorageError.corruption("change-log HEAD is damaged", file: headPath, offset: 0)
        }
        return (bytes.loadFixed64(at: 0), Int64(bitPattern: bytes.loadFixed64(at: 8)))
    }

    // MARK: Verify and prune

    /// A damaged segment, or a hole between two segments.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public let name: String
        public let path: String
        public let detail: String
        public var description: String { "\(name) (\(path)): \(detail)" }
    }

    /// Reads every segment and checks its checksum; also reports gaps between segments.
    public func verify() throws -> (segments: Int, problems: [Problem]) {
        let names = try segmentNames()
        var problems: [Problem] = []
        var previous: SegmentName?
        for n in names {
            do {
                _ = try read(n)
            } catch let e as StorageError {
                problems.append(Problem(name: n.name, path: n.path, detail: e.message))
            }
            if let p = previous, n.from != p.through + 1 {
                problems.append(
                    Problem(
                        name: n.name, path: n.path,
                        detail: "gap: sequences \(p.through + 1)...\(n.from - 1) are not archived (after \(p.name))"))
            }
            previous = n
        }
        do {
            _ = try readHead()
        } catch let e as StorageError {
            problems.append(Problem(name: ChangeLogSegment.headName, path: headPath, detail: e.message))
        }
        return (names.count, problems)
    }

    /// Deletes segments wholly at or below `sequence` (the oldest kept backup's): replay from any
    /// kept backup starts above it. Returns the number removed.
    @discardableResult
    public func prune(through sequence: UInt64) throws -> Int {
        guard fileSystem.fileExists(directory) else { return 0 }
        var removed = 0
        for name in try fileSystem.listDirectory(directory) {
            // Temporary files are left alone: an archiver may be writing one now.
            if let (_, through) = ChangeLogSegment.parseName(name), through <= sequence {
                try fileSystem.removeFile(joinPath(directory, name))
                removed += 1
            }
        }
        try fileSystem.syncDirectory(directory)
        return removed
    }
}
