import Glibc

/// What taking one backup cost, counted (SPEC.md §14.2): so the load a backup puts on a busy
/// database can be attributed by measurement rather than guessed from wall-clock times.
public struct BackupWork: Sendable, Equatable {
    /// How long the backup held the database's monitor (the pin): the only time a writer could
    /// have waited for the backup.
    public var monitorNanoseconds: UInt64 = 0
    /// Bytes read only to compute checksums (tables and logs this process had not read before).
    public var bytesChecksummed: UInt64 = 0
    /// Bytes written into the repository: copied tables and logs, the active log's tail, the
    /// backup's manifest files.
    public var bytesWritten: UInt64 = 0
    /// Of those, log records copied from the active log (at most one memtable's worth).
    public var logBytesCopied: UInt64 = 0
    /// Immutable files (tables, closed logs) hard-linked into the repository, and copied.
    public var filesLinked = 0
    public var filesCopied = 0
    /// fsync calls on files and on directories.
    public var fileSyncs = 0
    public var directorySyncs = 0
    /// CPU time of the backup's thread (user and system), and its wall-clock time.
    public var cpuNanoseconds: UInt64 = 0
    public var wallNanoseconds: UInt64 = 0

    public init() {}

    /// Sums of two backups' work.
    public static func + (a: BackupWork, b: BackupWork) -> BackupWork {
        var s = a
        s.monitorNanoseconds += b.monitorNanoseconds
        s.bytesChecksummed += b.bytesChecksummed
        s.bytesWritten += b.bytesWritten
        s.logBytesCopied += b.logBytesCopied
        s.filesLinked += b.filesLinked
        s.filesCopied += b.filesCopied
        s.fileSyncs += b.fileSyncs
        s.directorySyncs += b.directorySyncs
        s.cpuNanoseconds += b.cpuNanoseconds
        s.wallNanoseconds += b.wallNanoseconds
        return s
    }

    /// CPU time the calling thread has used, in nanoseconds.
    static func threadCPUNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
