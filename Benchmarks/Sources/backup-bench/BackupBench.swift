import Foundation
import Glibc
import OsmanthusStorage
import Synchronization

/// backup-bench: checkpoint (snapshot) time, backup and restore throughput against the disk's
/// sequential bandwidth, and write throughput while backups run vs without (SPEC.md §14).
///
///     backup-bench [--sizes 100,1000] [--dir /tmp/osmanthus-backup-bench] [--repeat 5] [--write-seconds 5]
@main
struct BackupBench {
    static func main() throws {
        var sizes = [100]
        var root = "/tmp/osmanthus-backup-bench"
        var repeats = 5
        var writeSeconds = 5.0
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let a = args.next() {
            switch a {
            case "--sizes": sizes = (args.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--dir": root = args.next() ?? root
            case "--repeat": repeats = Int(args.next() ?? "") ?? repeats
            case "--write-seconds": writeSeconds = Double(args.next() ?? "") ?? writeSeconds
            default:
                print("usage: backup-bench [--sizes MB,MB] [--dir D] [--repeat N] [--write-seconds S]")
                exit(2)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }

        let disk = try measureDisk(root + "/seq", megabytes: 512)
        print("disk sequential (512 MB, 1 MiB blocks): write+fdatasync \(f(disk.write)) MB/s, read (cache dropped) \(f(disk.read)) MB/s")
        print("")
        print("size     snapshot ms (median of \(repeats), min-max)   backup MB/s   restore MB/s   restore/disk-write")
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
            let repo = BackupRepository(path: root + "/repo\(size)")
            dropCaches(dir)
            var t = now()
            let info = try repo.create(from: db)
            let backupSeconds = now() - t
            try db.close()
            dropCaches(root + "/repo\(size)")
            t = now()
            try repo.restore(info.id, to: root + "/restored\(size)")
            let restoreSeconds = now() - t
            let mb = Double(info.totalBytes) / 1e6
            snaps.sort()
            print(
                "\(size) MB   \(f(snaps[snaps.count / 2])) (\(f(snaps[0]))-\(f(snaps[snaps.count - 1])))"
                    + "                  \(f(mb / backupSeconds))          \(f(mb / restoreSeconds))           "
                    + "\(f(100 * (mb / restoreSeconds) / disk.write))%   [\(f(Double(bytes) / 1e6)) MB written, backup \(f(mb)) MB]")
            try? FileManager.default.removeItem(atPath: root + "/restored\(size)")
        }
        print("")
        try writesDuringBackups(root: root, seconds: writeSeconds, baseMegabytes: sizes.first ?? 100)
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
    /// evicting it from the page cache.
    static func measureDisk(_ file: String, megabytes: Int) throws -> (write: Double, read: Double) {
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
        close(rfd)
        unlink(file)
        let mb = Double(megabytes) * 1.048576
        return (mb / w, mb / r)
    }

    /// Puts of 1 KB values from one thread for `seconds`, alone, then with backups (create +
    /// prune to 2) running back to back on another thread; ops/s of each and the ratio; once
    /// with unpaced backups and once paced as the server's scheduled backups are.
    static func writesDuringBackups(root: String, seconds: Double, baseMegabytes: Int) throws {
        let dir = root + "/writes"
        _ = try fill(dir, megabytes: baseMegabytes)
        let db = try DB.open(at: dir)
        defer { try? db.close() }
        func writeFor(_ s: Double) throws -> Double {
            var rng: UInt64 = 7
            var n = 0
            let end = now() + s
            let start = now()
            while now() < end {
                for _ in 0..<100 {
                    try db.put(Array(String(format: "w%014d", Int(rng % 10_000_000)).utf8), value(&rng))
                    n += 1
                }
            }
            return Double(n) / (now() - start)
        }
        // Unpaced (as fast as the disk goes), then paced as the server paces scheduled backups.
        // Each mode compares with writes alone just before it: the database grows by ~0.5 GB per
        // window, and compaction debt slows later windows whether a backup runs or not.
        for (label, rate) in [("unpaced", UInt64?.none), ("paced at 64 MiB/s, the server's default", 64 << 20)] {
            let alone = try writeFor(seconds)
            let stop = Atomic(false)
            let backups = Atomic(0)
            let repo = BackupRepository(path: root + "/writes-repo", rateLimit: rate)
            let done = Mutex<Bool>(false)
            let thread = Thread {
                while !stop.load(ordering: .acquiring) {
                    if (try? repo.create(from: db)) != nil { backups.add(1, ordering: .relaxed) }
                    _ = try? repo.prune(keepLast: 2)
                }
                done.withLock { $0 = true }
            }
            thread.start()
            let during = try writeFor(seconds)
            stop.store(true, ordering: .releasing)
            while !done.withLock({ $0 }) { usleep(10_000) }
            print(
                "writes (1 KB puts, 1 thread, \(f(seconds)) s each): alone \(Int(alone)) ops/s, during back-to-back backups "
                    + "(\(label)) \(Int(during)) ops/s = \(f(100 * during / alone))% "
                    + "(\(backups.load(ordering: .relaxed)) backups taken)")
        }
    }
}
