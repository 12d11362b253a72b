// The child side: runs the chosen workloads against one engine and times each.
import Foundation
import Synchronization

/// Runs every selected workload once, in `Workload.runOrder`, against one engine.
final class WorkloadRunner {
    private let options: BenchOptions
    private let kind: EngineKind
    private let data: BenchData
    private let settings = EngineSettings()
    private let databasePath: String
    private var engine: (any Engine)?
    private var report: ChildReport

    init(options: BenchOptions, kind: EngineKind, data: BenchData, directory: String) {
        self.options = options
        self.kind = kind
        self.data = data
        databasePath = directory + "/db"
        report = ChildReport(engine: kind, repeatIndex: options.repeatIndex)
    }

    /// Runs the workloads; an engine error ends the run but keeps what was measured before it,
    /// with the error in `failure`.
    func run() -> ChildReport {
        report.baselineRSSBytes = ProcessStats.statusBytes("VmRSS")
        defer { if !Driver.keepDatabases { try? FileManager.default.removeItem(atPath: databasePath) } }
        do {
            try runWorkloads()
            report.endAnonymousRSSBytes = ProcessStats.statusBytes("RssAnon")
            report.endFileRSSBytes = ProcessStats.statusBytes("RssFile")
            try closeEngine()
        } catch {
            report.failure = "\(stage): \(error)"
            try? engine?.close()
            engine = nil
        }
        report.peakRSSBytes = ProcessStats.statusBytes("VmHWM")
        return report
    }

    /// What the run was doing, for the failure message.
    private var stage = "start"

    private func runWorkloads() throws {
        let selected = Set(options.workloads)
        let needsFill = selected.contains { $0.needsFilledDatabase }
        for workload in Workload.runOrder {
            stage = workload.rawValue
            let chosen = selected.contains(workload)
            switch workload {
            case .fillseq, .fillbatch, .fillsync, .fillsync16:
                guard chosen else { continue }
                try openFresh()
                try measure(workload) { try self.fill(workload) }
                try closeEngine()
            case .fillrandom:
                // The reads need this database even when fillrandom itself is not reported.
                guard chosen || needsFill else { continue }
                // STORAGE_BENCH_REUSE_DB=1 (with --dir and a database a STORAGE_BENCH_KEEP_DB=1
                // run left): the reads run on it as it is, e.g. to profile them alone.
                if !chosen, getenv("STORAGE_BENCH_REUSE_DB") != nil,
                    FileManager.default.fileExists(atPath: databasePath)
                {
                    try reopen()
                    continue
                }
                try openFresh()
                if chosen {
                    try measure(workload) { try self.fill(workload) }
                } else {
                    _ = try fill(workload)
                }
                stage = "reopen after fillrandom"
                try reopen()
                report.diskBytesAfterFill = ProcessStats.directoryBytes(databasePath)
            case .overwrite:
                guard chosen else { continue }
                try measure(workload) { try self.overwrite() }
            case .readrandom:
                guard chosen else { continue }
                // Reopen so the reads hit tables, not just the memtable.
                stage = "reopen before readrandom"
                try reopen()
                stage = workload.rawValue
                try measure(workload) { try self.readRandom() }
            case .readseq:
                guard chosen else { continue }
                try measure(workload) { try self.readSequential() }
            case .seekrandom:
                guard chosen else { continue }
                try measure(workload) { try self.seekRandom() }
            }
        }
        stage = "close"
    }

    // MARK: Lifecycle

    private func openFresh() throws {
        try closeEngine()
        let files = FileManager.default
        if files.fileExists(atPath: databasePath) { try files.removeItem(atPath: databasePath) }
        try files.createDirectory(atPath: databasePath, withIntermediateDirectories: true)
        engine = try kind.open(path: databasePath, settings: settings)
    }

    private func reopen() throws {
        try closeEngine()
        engine = try kind.open(path: databasePath, settings: settings)
    }

    private func closeEngine() throws {
        let current = engine
        engine = nil
        try current?.close()
    }

    private func openEngine() throws -> any Engine {
        guard let engine else { throw BenchError("\(kind.rawValue): database not open") }
        return engine
    }

    /// Times `body`, which returns the number of operations it did, and records the result.
    private func measure(_ workload: Workload, _ body: () throws -> Int) throws {
        let start = ContinuousClock.now
        let ops = try body()
        let elapsed = start.duration(to: .now)
        let seconds =
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let result = WorkloadResult(workload: workload, ops: ops, seconds: seconds)
        report.results.append(result)
        let line = String(
            format: "  [%@ run %d] %@ %10d ops %8.2f s %12.0f ops/s  (VmHWM so far %.0f MiB)\n",
            kind.rawValue, options.repeatIndex + 1,
            workload.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0), ops, seconds,
            result.opsPerSecond, Double(ProcessStats.statusBytes("VmHWM")) / 1_048_576)
        FileHandle.standardError.write(Data(line.utf8))
    }

    // MARK: Workloads

    private func fill(_ workload: Workload) throws -> Int {
        let db = try openEngine()
        let n = data.count
        switch workload {
        case .fillseq:
            for i in 0..<n { try db.put(data.key(i), data.value(i), sync: false) }
            return n
        case .fillrandom:
            for (j, i) in data.permutation.enumerated() {
                try db.put(data.key(Int(i)), data.value(j), sync: false)
            }
            return n
        case .fillbatch:
            for start in stride(from: 0, to: n, by: Workload.batchSize) {
                let count = min(Workload.batchSize, n - start)
                try db.writeBatch(count: count) { k in (data.key(start + k), data.value(start + k))
                }
            }
            return n
        case .fillsync:
            let count = min(options.syncNum, n)
            for j in 0..<count {
                try db.put(data.key(Int(data.permutation[j])), data.value(j), sync: true)
            }
            return count
        case .fillsync16:
            return try fillSyncConcurrently(db, threads: Workload.writerThreadsForFillsync16)
        default:
            preconditionFailure("\(workload) is not a fill")
        }
    }

    /// Sync puts from several threads at once: what group commit is for. Thread t writes
    /// entries t, t + threads, ... of the random order.
    private func fillSyncConcurrently(_ db: any Engine, threads: Int) throws -> Int {
        let count = min(options.syncNum * Workload.fillsync16WriteFactor, data.count)
        let data = self.data
        let failures = FailureList()
        let done = DispatchGroup()
        // Every thread is created before any writes: otherwise the first ones write alone (and
        // look like single writers) while the rest are still being started.
        let started = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        for t in 0..<threads {
            done.enter()
            started.enter()
            let thread = Thread {
                defer { done.leave() }
                started.leave()
                go.wait()
                do {
                    for j in stride(from: t, to: count, by: threads) {
                        try db.put(data.key(Int(data.permutation[j])), data.value(j), sync: true)
                    }
                } catch {
                    failures.append("writer \(t): \(error)")
                }
            }
            thread.start()
        }
        started.wait()
        for _ in 0..<threads { go.signal() }
        done.wait()
        if let first = failures.first { throw BenchError(first) }
        return count
    }

    private func overwrite() throws -> Int {
        let db = try openEngine()
        var rng = SplitMix64(seed: data.seed ^ 0x6F76_6572)
        for j in 0..<data.count {
            try db.put(data.key(rng.index(below: data.count)), data.value(j, salt: 1), sync: false)
        }
        return data.count
    }

    private func readRandom() throws -> Int {
        let db = try openEngine()
        var rng = SplitMix64(seed: data.seed ^ 0x7265_6164)
        var found = 0
        var wrongLength = 0
        for _ in 0..<options.readCount {
            if let length = try db.get(data.key(rng.index(below: data.count))) {
                found += 1
                if length != BenchData.valueSize { wrongLength += 1 }
            }
        }
        if found != options.readCount {
            report.problems.append("readrandom: found \(found) of \(options.readCount) keys")
        }
        if wrongLength > 0 {
            report.problems.append("readrandom: \(wrongLength) values of the wrong length")
        }
        return options.readCount
    }

    private func readSequential() throws -> Int {
        let cursor = try openEngine().makeCursor()
        var entries = 0
        var bytes = 0
        cursor.seekToFirst()
        while cursor.isValid {
            bytes += cursor.entrySize()
            entries += 1
            cursor.next()
        }
        try cursor.close()
        let expected = data.count * (BenchData.keySize + BenchData.valueSize)
        if entries != data.count || bytes != expected {
            report.problems.append(
                "readseq: \(entries) entries / \(bytes) bytes, expected \(data.count) / \(expected)"
            )
        }
        return entries
    }

    private func seekRandom() throws -> Int {
        let cursor = try openEngine().makeCursor()
        var rng = SplitMix64(seed: data.seed ^ 0x7365_656B)
        var missed = 0
        var bytes = 0
        for _ in 0..<options.readCount {
            cursor.seek(data.key(rng.index(below: data.count)))
            guard cursor.isValid else {
                missed += 1
                continue
            }
            bytes += cursor.entrySize()
            for _ in 0..<Workload.nextsPerSeek {
                cursor.next()
                guard cursor.isValid else { break }
                bytes += cursor.entrySize()
            }
        }
        try cursor.close()
        if missed > 0 { report.problems.append("seekrandom: \(missed) seeks found nothing") }
        if bytes == 0 { report.problems.append("seekrandom: read nothing") }
        return options.readCount
    }
}

/// Errors from writer threads, collected under a lock (the Mutex protects the list).
private final class FailureList: Sendable {
    private let list = Mutex<[String]>([])
    func append(_ message: String) { list.withLock { $0.append(message) } }
    var first: String? { list.withLock { $0.first } }
}
