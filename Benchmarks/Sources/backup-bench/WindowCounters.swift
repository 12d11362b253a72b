import Foundation
import Glibc
import OsmanthusStorage

/// What one measuring window cost, counted rather than timed (wall-clock is noise on a loaded
/// machine): the writer thread's time on a CPU, waiting for one (run queue) and blocked (locks,
/// stalls, page-cache throttling), the CPU of the engine's own threads and of everything else
/// (the backups), the bytes the process read and wrote, and the engine's counters.
struct WindowCounters {
    /// Nanoseconds, from /proc/self/task/<tid>/schedstat: on CPU, waiting on a run queue.
    var writerCPU: Double = 0
    var writerRunQueue: Double = 0
    var engineCPU: Double = 0
    var engineRunQueue: Double = 0
    /// Process CPU (user + system, every thread, dead ones too), nanoseconds.
    var processCPU: Double = 0
    /// /proc/self/io: bytes the process caused to be read from / written to storage, and
    /// bytes passed to write(2).
    var readBytes: Double = 0
    var writeBytes: Double = 0
    var writeCalls: Double = 0
    var wchar: Double = 0
    var stats: [Statistics.Counter: Double] = [:]

    /// Reads the counters now. `writer` is the writing thread's tid; `engine` the tids of the
    /// database's background threads.
    static func read(db: DB, writer: Int32, engine: [Int32]) -> WindowCounters {
        var c = WindowCounters()
        (c.writerCPU, c.writerRunQueue) = schedstat(writer)
        for t in engine {
            let (cpu, rq) = schedstat(t)
            c.engineCPU += cpu
            c.engineRunQueue += rq
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        c.processCPU = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e9
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e3
        let io = keyValues("/proc/self/io")
        c.readBytes = io["read_bytes"] ?? 0
        c.writeBytes = io["write_bytes"] ?? 0
        c.writeCalls = io["syscw"] ?? 0
        c.wchar = io["wchar"] ?? 0
        for (k, v) in db.statistics.all { c.stats[k] = Double(v) }
        return c
    }

    /// Sums of two windows' counters (each already a difference).
    static func + (a: WindowCounters, b: WindowCounters) -> WindowCounters {
        var s = WindowCounters()
        s.writerCPU = a.writerCPU + b.writerCPU
        s.writerRunQueue = a.writerRunQueue + b.writerRunQueue
        s.engineCPU = a.engineCPU + b.engineCPU
        s.engineRunQueue = a.engineRunQueue + b.engineRunQueue
        s.processCPU = a.processCPU + b.processCPU
        s.readBytes = a.readBytes + b.readBytes
        s.writeBytes = a.writeBytes + b.writeBytes
        s.writeCalls = a.writeCalls + b.writeCalls
        s.wchar = a.wchar + b.wchar
        s.stats = a.stats.merging(b.stats, uniquingKeysWith: +)
        return s
    }

    static func - (a: WindowCounters, b: WindowCounters) -> WindowCounters {
        var d = WindowCounters()
        d.writerCPU = a.writerCPU - b.writerCPU
        d.writerRunQueue = a.writerRunQueue - b.writerRunQueue
        d.engineCPU = a.engineCPU - b.engineCPU
        d.engineRunQueue = a.engineRunQueue - b.engineRunQueue
        d.processCPU = a.processCPU - b.processCPU
        d.readBytes = a.readBytes - b.readBytes
        d.writeBytes = a.writeBytes - b.writeBytes
        d.writeCalls = a.writeCalls - b.writeCalls
        d.wchar = a.wchar - b.wchar
        for (k, v) in a.stats { d.stats[k] = v - (b.stats[k] ?? 0) }
        return d
    }

    /// One line per window, per 1,000 puts where it is the writer's cost.
    func describe(puts: Double, seconds: Double) -> String {
        func ms(_ ns: Double) -> String { String(format: "%.0f", ns / 1e6) }
        func mb(_ b: Double) -> String { String(format: "%.0f", b / 1e6) }
        let blocked = seconds * 1e9 - writerCPU - writerRunQueue
        let other = processCPU - writerCPU - engineCPU
        let stall = (stats[.stallMicros] ?? 0) * 1000
        return "writer ms: cpu \(ms(writerCPU)) runq \(ms(writerRunQueue)) blocked \(ms(blocked)) "
            + "(engine stalls \(ms(stall)): \(Int(stats[.writeSlowdowns] ?? 0)) slowdowns, "
            + "\(Int(stats[.writeStops] ?? 0)) stops); writer cpu/put \(String(format: "%.1f", writerCPU / max(puts, 1) / 1e3)) us | "
            + "cpu ms: engine \(ms(engineCPU)) (runq \(ms(engineRunQueue))) other/backup \(ms(other)) | "
            + "MB: flushed \(mb(stats[.flushBytes] ?? 0)) compaction r/w \(mb(stats[.compactionBytesRead] ?? 0))/"
            + "\(mb(stats[.compactionBytesWritten] ?? 0)) disk r/w \(mb(readBytes))/\(mb(writeBytes)) write(2) \(mb(wchar))"
    }

    /// (on-CPU ns, run-queue ns) of a thread of this process; zeros if it is gone.
    static func schedstat(_ tid: Int32) -> (Double, Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/schedstat", encoding: .utf8) else {
            return (0, 0)
        }
        let parts = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return parts.count >= 2 ? (parts[0], parts[1]) : (0, 0)
    }

    static func keyValues(_ file: String) -> [String: Double] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: ":")
            if kv.count == 2, let v = Double(kv[1].trimmingCharacters(in: .whitespaces)) { out[String(kv[0])] = v }
        }
        return out
    }

    /// Thread ids of this process.
    static func threads() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int32($0) }
    }
}
