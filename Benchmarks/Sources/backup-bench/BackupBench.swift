import Foundation
import Glibc
import OsmanthusStorage
import Synchronization

/// backup-bench: checkpoint (snapshot) time, backup and restore throughput against the disk's
/// sequential bandwidth, and write throughput while backups run vs without (SPEC.md §14).
///
///     backup-bench [--sizes 100,1000] [--dir /tmp/osmanthus-backup-bench] [--repeat 5] [--write-seconds 5]
///                  [--pairs 4] [--writes-only]
@main
struct BackupBench {
    static func main() throws {
        var sizes = [100]
        var root = "/tmp/osmanthus-backup-bench"
        var repeats = 5
        var writeSeconds = 5.0
        var writesOnly = false
        var restoreOnly = false
        var profileBackups = 0
        var copyFiles = false
        var pairs = 4
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let a = args.next() {
            switch a {
            case "--sizes": sizes = (args.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--dir": root = args.next() ?? root
            case "--repeat": repeats = Int(args.next() ?? "") ?? repeats
            case "--write-seconds": writeSeconds = Double(args.next() ?? "") ?? writeSeconds
            case "--writes-only": writesOnly = true
            case "--no-writes": restoreOnly = true
            case "--profile-backups": profileBackups = Int(args.next() ?? "") ?? 0
            case "--copy-files": copyFiles = true
            case "--pairs": pairs = max(1, Int(args.next() ?? "") ?? pairs)
            default:
                print(
                    "usage: backup-bench [--sizes MB,MB] [--dir D] [--repeat N] [--write-seconds S] [--pairs N] "
                        + "[--writes-only | --no-writes] [--profile-backups N [--copy-files]]")
                exit(2)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        if profileBackups > 0 {
            try profile(root: root, backups: profileBackups, baseMegabytes: sizes.first ?? 100, link: !copyFiles)
            return
        }
        if writesOnly {
            try writesDuringBackups(
                root: root, seconds: writeSeconds, baseMegabytes: sizes.first ?? 100, pairs: pairs)
            return
        }

        // The disk's figures swing run to run on a virtual disk (the host caches too): each is
        // the median of `repeats` rounds, as the restores it is compared with are.
        var rounds: [(write: Double, read: Double, readAhead: Double)] = []
        for _ in 0..<max(repeats, 1) { rounds.append(try measureDisk(root + "/seq", megabytes: 512)) }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let disk = (
            write: median(rounds.map(\.write)), read: median(rounds.map(\.read)),
            readAhead: median(rounds.map(\.readAhead)))
        print("disk sequential (512 MB, 1 MiB blocks, median of \(rounds.count)): write+fdatasync \(f(disk.write)) MB/s, read (cache dropped) \(f(disk.read)) MB/s, "
            + "read with 32 MiB read-ahead (cache dropped) \(f(disk.readAhead)) MB/s")
        print("")
        print("size     snapshot ms (median of \(repeats), min-max)   backup MB/s   restore MB/s (median of \(repeats))   restore/disk-write")
        for size in sizes {
            let dir = root + "/db\(size)"
            let bytes = try fill(dir, megabytes: size)
            let db = try DB.open(at: dir)
            var snaps: [Double] = []
            for i in 0..<repeats {
                let target = root + "/snap\(size)-\(i)"
                let t = now()
                try db.checkpoint(to: target)
                snaps.append((now() - t) * 1000)
                try FileManager.default.removeItem(atPath: target)
            }
            // Copies, to measure the copy against the disk (a linked backup is only links).
            let repo = BackupRepository(path: root + "/repo\(size)", linkFiles: false)
            dropCaches(dir)
            let t = now()
            let info = try repo.create(from: db)
            let backupSeconds = now() - t
            try db.close()
            // The median of `repeats` restores, each from a cold cache into a new directory.
            func medianRestore(_ repository: BackupRepository, into prefix: String) throws -> Double {
                var seconds: [Double] = []
                for i in 0..<repeats {
                    dropCaches(repository.path)
                    let start = now()
                    try repository.restore(info.id, to: prefix + "-\(i)")
                    seconds.append(now() - start)
                    try? FileManager.default.removeItem(atPath: prefix + "-\(i)")
                }
                return seconds.sorted()[seconds.count / 2]
            }
            let restoreSeconds = try medianRestore(repo, into: root + "/restored\(size)")
            // The same backup restored through a linking repository on the same file system:
            // tables are checked (read once) and hard-linked; the rest is copied.
            let linkedSeconds = try medianRestore(BackupRepository(path: repo.path), into: root + "/linked\(size)")
            let mb = Double(info.totalBytes) / 1e6
            snaps.sort()
            print(
                "\(size) MB   \(f(snaps[snaps.count / 2])) (\(f(snaps[0]))-\(f(snaps[snaps.count - 1])))"
                    + "                  \(f(mb / backupSeconds))          \(f(mb / restoreSeconds))           "
                    + "\(f(100 * (mb / restoreSeconds) / disk.write))%   [\(f(Double(bytes) / 1e6)) MB written, backup \(f(mb)) MB]"
                    + "   restore by links \(f(mb / linkedSeconds)) MB/s = \(f(100 * (mb / linkedSeconds) / disk.write))%")
        }
        print("")
        if restoreOnly { return }
        try writesDuringBackups(root: root, seconds: writeSeconds, baseMegabytes: sizes.first ?? 100, pairs: pairs)
    }

    static func f(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return String(r)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Values half random, half a repeat (compressible 2:1, as the other benches).
    static func value(_ rng: inout UInt64, size: Int = 1000) -> [UInt8] {
        var half = [UInt8](repeating: 0, count: size / 2)
        for i in stride(from: 0, to: half.count, by: 8) {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var x = rng
            for j in i..<min(i + 8, half.count) {
                half[j] = UInt8(truncatingIfNeeded: x)
                x >>= 8
            }
        }
        return half + half
    }

    /// Writes about `megabytes` of 1 KB values in batches and flushes; returns the bytes written.
    static func fill(_ dir: String, megabytes: Int) throws -> Int {
        let db = try DB.open(at: dir)
        var rng: UInt64 = 42
        let count = megabytes * 1000
        var written = 0
        var n = 0
        while n < count {
            var batch = WriteBatch()
            for _ in 0..<100 {
                let key = Array(String(format: "key%012d", n).utf8)
                let v = value(&rng)
                batch.put(key, v)
                written += key.count + v.count
                n += 1
            }
            try db.write(batch)
        }
        try db.flush()
        try db.close()
        return written
    }

    static func dropCaches(_ path: String) {
        // Without root, evict the files' pages individually.
        guard let e = FileManager.default.enumerator(atPath: path) else { return }
        while let name = e.nextObject() as? String {
            let fd = open(path + "/" + name, O_RDONLY)
            if fd >= 0 {
                _ = fdatasync(fd)
                _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
                close(fd)
            }
        }
    }

    /// dd-like: write `megabytes` in 1 MiB blocks with fdatasync, then read it back after
    /// evicting it from the page cache, one read at a time and then with read-ahead.
    static func measureDisk(_ file: String, megabytes: Int) throws -> (write: Double, read: Double, readAhead: Double) {
        let block = [UInt8](repeating: 0xA5, count: 1 << 20)
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var t = now()
        for _ in 0..<megabytes { _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        _ = fdatasync(fd)
        let w = now() - t
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        close(fd)
        let rfd = open(file, O_RDONLY)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        t = now()
        while buffer.withUnsafeMutableBytes({ read(rfd, $0.baseAddress, $0.count) }) > 0 {}
        let r = now() - t
        // Again with the OS asked to read 32 MiB ahead, as the restore's copy asks (the disk
        // streams with more than one request in flight).
        _ = posix_fadvise(rfd, 0, 0, POSIX_FADV_DONTNEED)
        let window = 32 << 20
        var offset = 0
        _ = posix_fadvise(rfd, 0, off_t(window), POSIX_FADV_WILLNEED)
        t = now()
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(rfd, $0.baseAddress, $0.count, off_t(offset)) }
            if n <= 0 { break }
            _ = posix_fadvise(rfd, off_t(offset + window), off_t(n), POSIX_FADV_WILLNEED)
            offset += n
        }
        let ra = now() - t
        close(rfd)
        unlink(file)
        let mb = Double(megabytes) * 1.048576
        return (mb / w, mb / r, mb / ra)
    }

    /// Writes alone (A) and writes with backups running back to back on another thread (B),
    /// in alternating windows, once per backup mode: one thread of 1 KB puts, every window the
    /// same key sequence (overwrites, so after the first window the live data stays the same), a
    /// warm-up window not counted, then `pairs` pairs ordered A B B A A B B A …: a drift through
    /// the run (compaction debt, the page cache filling) weighs on both kinds alike instead of
    /// always on the later one. The ratio is the median of the B windows ÷ the median of the A
    /// windows; the spread, each kind's min–max and the ratio of each adjacent A/B pair. A B
    /// window stops its backups and waits for the one in flight (and its prune) before the next
    /// A window starts, so a backup never runs during a window counted as without. Each kind's
    /// windows also print what they cost, summed (WindowCounters): the writer's CPU, run-queue
    /// and blocked time, engine stalls, CPU of the engine's threads and of the backups, bytes
    /// read and written.
    static func writesDuringBackups(root: String, seconds: Double, baseMegabytes: Int, pairs: Int) throws {
        let dir = root + "/writes"
        _ = try fill(dir, megabytes: baseMegabytes)
        let before = Set(WindowCounters.threads())
        let db = try DB.open(at: dir)
        defer { try? db.close() }
        let writerTid = Int32(getpid())  // the main thread writes
        let engineTids = WindowCounters.threads().filter { !before.contains($0) }
        func writeFor(_ s: Double) throws -> (opsPerSecond: Double, puts: Double, seconds: Double, counters: WindowCounters) {
            var rng: UInt64 = 7  // every window writes the same key sequence
            var n = 0
            let c0 = WindowCounters.read(db: db, writer: writerTid, engine: engineTids)
            let end = now() + s
            let start = now()
            while now() < end {
                for _ in 0..<100 {
                    try db.put(Array(String(format: "w%014d", Int(rng % 10_000_000)).utf8), value(&rng))
                    n += 1
                }
            }
            let elapsed = now() - start
            let c = WindowCounters.read(db: db, writer: writerTid, engine: engineTids) - c0
            return (Double(n) / elapsed, Double(n), elapsed, c)
        }
        func withBackups(_ repo: BackupRepository, _ s: Double) throws -> (window: (opsPerSecond: Double, puts: Double, seconds: Double, counters: WindowCounters), backups: Int, work: BackupWork) {
            let stop = Atomic(false)
            let backups = Atomic(0)
            let done = Mutex<Bool>(false)
            let total = Mutex(BackupWork())
            let thread = Thread {
                while !stop.load(ordering: .acquiring) {
                    if let work = (try? repo.createReportingWork(from: db))?.work {
                        backups.add(1, ordering: .relaxed)
                        total.withLock { $0 = $0 + work }
                    }
                    _ = try? repo.prune(keepLast: 2)
                }
                done.withLock { $0 = true }
            }
            thread.start()
            let window = try writeFor(s)
            stop.store(true, ordering: .releasing)
            while !done.withLock({ $0 }) { usleep(10_000) }
            return (window, backups.load(ordering: .relaxed), total.withLock { $0 })
        }
        let modes: [(String, UInt64?, Bool)] = [
            ("linked, unpaced", nil, true), ("linked, paced at 64 MiB/s (the server's default)", 64 << 20, true),
            ("copied, unpaced", nil, false), ("copied, paced at 64 MiB/s", 64 << 20, false),
        ]
        print(
            "writes alone (A) vs during back-to-back backups (B): 1 KB puts, 1 thread, \(f(seconds)) s windows, "
                + "1 warm-up + \(pairs) pairs (A B B A ...) per mode")
        for (label, rate, link) in modes {
            let repo = BackupRepository(path: root + "/writes-repo-\(link ? "linked" : "copied")", rateLimit: rate, linkFiles: link)
            _ = try writeFor(seconds)  // warm-up: not counted
            var alone: [Double] = []
            var during: [Double] = []
            var pairRatios: [Double] = []
            var aloneCounters = WindowCounters()
            var duringCounters = WindowCounters()
            var aloneTotals = (puts: 0.0, seconds: 0.0)
            var duringTotals = (puts: 0.0, seconds: 0.0)
            var backups = 0
            var work = BackupWork()
            for pair in 0..<pairs {
                var a = 0.0
                var b = 0.0
                for kind in (pair % 2 == 0 ? [false, true] : [true, false]) {
                    if kind {
                        let r = try withBackups(repo, seconds)
                        b = r.window.opsPerSecond
                        during.append(b)
                        duringCounters = duringCounters + r.window.counters
                        duringTotals.puts += r.window.puts
                        duringTotals.seconds += r.window.seconds
                        backups += r.backups
                        work = work + r.work
                    } else {
                        let r = try writeFor(seconds)
                        a = r.opsPerSecond
                        alone.append(a)
                        aloneCounters = aloneCounters + r.counters
                        aloneTotals.puts += r.puts
                        aloneTotals.seconds += r.seconds
                    }
                }
                pairRatios.append(b / a)
            }
            let ratio = median(during) / median(alone)
            print(
                "backups \(label): B/A = \(f(100 * ratio))% (median of \(during.count) B windows \(Int(median(during))) ops/s "
                    + "[\(Int(during.min() ?? 0))-\(Int(during.max() ?? 0))] / median of \(alone.count) A windows "
                    + "\(Int(median(alone))) ops/s [\(Int(alone.min() ?? 0))-\(Int(alone.max() ?? 0))]); "
                    + "pair ratios \(f(100 * (pairRatios.min() ?? 0)))-\(f(100 * (pairRatios.max() ?? 0)))% "
                    + "(median \(f(100 * median(pairRatios)))%); \(backups) backups")
            print("  A, all windows: \(aloneCounters.describe(puts: aloneTotals.puts, seconds: aloneTotals.seconds))")
            print("  B, all windows: \(duringCounters.describe(puts: duringTotals.puts, seconds: duringTotals.seconds))")
            print("  backups' own work: \(describe(work, backups: backups))")
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// For callgrind (`--toggle-collect='*createOnThisThread*'`): fills the database, then
    /// `backups` times writes 20,000 puts and takes a backup (pruned to 2), so each backup has
    /// new tables and a log tail to store, as back-to-back backups under writes do.
    static func profile(root: String, backups: Int, baseMegabytes: Int, link: Bool) throws {
        let dir = root + "/profile"
        _ = try fill(dir, megabytes: baseMegabytes)
        let db = try DB.open(at: dir)
        defer { try? db.close() }
        let repo = BackupRepository(path: root + "/profile-repo", linkFiles: link)
        var rng: UInt64 = 7
        var total = 0
        let start = now()
        // What each backup had to store, from its manifest: tables new since the previous
        // backup, and the logs (the checkpoint-based backup wrote each log twice and each new
        // table once; a linking one writes only the active log's tail).
        var previous = Set<String>()
        var newTableBytes: UInt64 = 0
        var logBytes: UInt64 = 0
        var work = BackupWork()
        for _ in 0..<backups {
            for _ in 0..<20_000 {
                try db.put(Array(String(format: "w%014d", Int(rng % 10_000_000)).utf8), value(&rng))
            }
            let (info, w) = try repo.createReportingWork(from: db)
            work = work + w
            total += info.fileCount
            let m = try repo.manifest(info.id)
            for file in m.files {
                if file.name.hasSuffix(".sst") && !previous.contains(file.object) { newTableBytes += file.size }
                if file.name.hasSuffix(".log") { logBytes += file.size }
            }
            previous = Set(m.files.map(\.object))
            try repo.prune(keepLast: 2)
        }
        print(
            "\(backups) backups, \(total) files in all, \(f(now() - start)) s; per backup: new tables "
                + "\(f(Double(newTableBytes) / Double(backups) / 1e6)) MB, logs \(f(Double(logBytes) / Double(backups) / 1e6)) MB")
        print("  backups' own work: \(describe(work, backups: backups))")
    }

    /// A `BackupWork` sum, per backup where it is an amount.
    static func describe(_ w: BackupWork, backups: Int) -> String {
        let n = Double(max(backups, 1))
        return "per backup: cpu \(f(Double(w.cpuNanoseconds) / n / 1e6)) ms (wall \(f(Double(w.wallNanoseconds) / n / 1e6)) ms), "
            + "monitor held \(String(format: "%.3f", Double(w.monitorNanoseconds) / n / 1e6)) ms, "
            + "checksummed \(f(Double(w.bytesChecksummed) / n / 1e6)) MB, written \(f(Double(w.bytesWritten) / n / 1e6)) MB "
            + "(log tail \(f(Double(w.logBytesCopied) / n / 1e6)) MB), files linked \(f(Double(w.filesLinked) / n)) "
            + "copied \(f(Double(w.filesCopied) / n)), fsyncs \(f(Double(w.fileSyncs) / n)) files + "
            + "\(f(Double(w.directorySyncs) / n)) directories"
    }
}
