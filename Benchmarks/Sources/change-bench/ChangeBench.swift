// change-bench: the cost and speed of the change log (SPEC.md §16), in one process.
//  - insert: documents inserted one by one (insertOne) and in batches of 1,000 (insertMany) into a
//    fresh database with the change log on and off, alternating which goes first per repeat;
//    medians of docs/s and the ratio on/off.
//  - latency: 1 and 16 consumers iterate `collection.changes()` (AsyncSequence, waiting on the
//    notifier); a writer inserts a document stamped with the monotonic clock just before
//    insertOne, then waits until every consumer has it, so each insert meets idle waiting
//    consumers. Latency = delivery time − stamp (so it includes the insert call itself);
//    p50/p99 over all deliveries.
import Foundation
import Osmanthus
import OsmanthusBSON
import Synchronization

struct Options {
    var docs = 20_000
    var events = 2_000
    var repeats = 3
    static let usage = "change-bench [--docs N] [--events N (0: no latency runs)] [--repeat N] [--log-only | --no-log-only] [--insert-one-only | --insert-many-only] [--stats]"

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var i = 0
        while i + 1 < args.count {
            let v = Int(args[i + 1]) ?? 0
            switch args[i] {
            case "--docs": o.docs = v
            case "--events": o.events = v
            case "--repeat": o.repeats = max(1, v)
            default: break
            }
            i += 2
        }
        return o
    }
}

/// Deliveries so far, shared by the consumers and the writer.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

func percentile(_ xs: [Int64], _ p: Double) -> Int64 {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
}

func document(_ i: Int) -> Document {
    [
        "_id": .string(String(format: "user%08d", i)), "name": .string("name \(i)"), "age": .int32(Int32(i % 90)),
        "city": .string(["Lyon", "Oslo", "Kyoto", "Lima"][i % 4]), "tags": ["a", "b", "c"],
        "note": .string(String(repeating: "n", count: 100)),
    ]
}

func scratch() -> String {
    var template = Array("/tmp/change-bench-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: made)
}

/// CPU seconds of the whole process (every thread: writers, flushes, compactions).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// docs/s of one fill of a fresh database (wall clock), and CPU µs per document (process CPU
/// time; less sensitive than wall time to other load on the machine). Both run until the
/// database is closed, so each side pays for flushing what it wrote: timing only the inserts
/// charges a side whose bytes cross the 32 MiB memtable during the fill (log on, twice the
/// bytes) for a flush the other side defers to close, unmeasured.
func fill(changeLog: Bool, docs: Int, batched: Bool) throws -> (rate: Double, cpuMicros: Double) {
    let dir = scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var options = DatabaseOptions()
    options.changeLog = changeLog
    let db = try Database.open(at: dir, options: options)
    let c = db.collection("docs", in: "bench")
    let all = (0..<docs).map(document)
    let cpuStart = cpuSeconds()
    let start = monotonicNanos()
    if batched {
        for chunk in stride(from: 0, to: docs, by: 1000) {
            try c.insertMany(Array(all[chunk..<min(docs, chunk + 1000)]))
        }
    } else {
        for d in all { try c.insertOne(d) }
    }
    let engine = db.engine
    try db.close()
    let seconds = Double(monotonicNanos() - start) / 1e9
    if CommandLine.arguments.contains("--stats") {
        // Where the bytes went: the log's background cost is in flush and compaction bytes.
        let s = engine.statistics
        print("  stats log \(changeLog ? "on " : "off") \(batched ? "many" : "one "): wal \(s.value(.walBytes) >> 10) KiB, "
            + "flushes \(s.value(.flushes)) (\(s.value(.flushBytes) >> 10) KiB), compactions \(s.value(.compactions)) "
            + "(read \(s.value(.compactionBytesRead) >> 10) KiB, written \(s.value(.compactionBytesWritten) >> 10) KiB), "
            + "trivial moves \(s.value(.trivialMoves))")
    }
    return (Double(docs) / seconds, (cpuSeconds() - cpuStart) * 1e6 / Double(docs))
}

/// Latencies (ns) of `events` inserts delivered to each of `consumers` waiting streams.
func latency(consumers: Int, events: Int) async throws -> [Int64] {
    let dir = scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = try Database.open(at: dir)
    let c = db.collection("docs", in: "bench")
    let delivered = Counter()
    let tasks = try (0..<consumers).map { _ in
        let stream = try c.changes()
        return Task { () -> [Int64] in
            var out: [Int64] = []
            out.reserveCapacity(events)
            for try await event in stream {
                let now = monotonicNanos()
                if case .int64(let stamp)? = event.fullDocument?["t"] { out.append(now - stamp) }
                delivered.value.add(1, ordering: .releasing)
                if out.count == events { break }
            }
            return out
        }
    }
    let writer = Task.detached {
        for i in 0..<events {
            try c.insertOne(["_id": .int32(Int32(i)), "t": .int64(monotonicNanos())])
            // Wait (outside the measured path) until every consumer has it and waits again.
            while delivered.value.load(ordering: .acquiring) < (i + 1) * consumers { usleep(20) }
            usleep(200)
        }
    }
    try await writer.value
    var all: [Int64] = []
    for t in tasks { all += try await t.value }
    try db.close()
    return all
}

/// Runs `body` on the cooperative pool and blocks the calling thread until it finishes. The
/// main is synchronous so that callgrind can profile the fills: valgrind 3.19 crashes when an
/// async main hands the main thread to dispatch.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<Result<T, any Error>?>(nil)
    Task {
        do {
            let value = try await body()
            result.withLock { $0 = .success(value) }
        } catch {
            result.withLock { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    guard let r = result.withLock({ $0 }) else { fatalError("the task ended without a result") }
    return try r.get()
}

@main
struct ChangeBench {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.contains("--help") {
            print(Options.usage)
            return
        }
        let o = Options.parse(args)
        print("change-bench: \(o.docs) docs per fill, \(o.events) events per latency run, \(o.repeats) repeats")
        print("documents ~\(document(0).byteCount) bytes; default DatabaseOptions (syncWrites false); each fill timed through close")
        var modes = [false, true]
        // For profiling one insert mode alone.
        if args.contains("--insert-one-only") { modes = [false] }
        if args.contains("--insert-many-only") { modes = [true] }
        for batched in modes {
            var on: [Double] = []
            var off: [Double] = []
            var cpuOn: [Double] = []
            var cpuOff: [Double] = []
            for r in 0..<o.repeats {
                var order = r % 2 == 0 ? [true, false] : [false, true]
                // For profiling one side alone.
                if args.contains("--log-only") { order = [true] }
                if args.contains("--no-log-only") { order = [false] }
                for log in order {
                    let (rate, cpu) = try fill(changeLog: log, docs: o.docs, batched: batched)
                    if log {
                        on.append(rate)
                        cpuOn.append(cpu)
                    } else {
                        off.append(rate)
                        cpuOff.append(cpu)
                    }
                }
            }
            let name = batched ? "insertMany x1000" : "insertOne"
            if on.isEmpty || off.isEmpty { continue }
            print(String(format: "%-18@ log on %9.0f docs/s   log off %9.0f docs/s   on/off %.2f   |  CPU/doc on %5.1f µs  off %5.1f µs  off/on %.2f",
                         name as NSString, median(on), median(off), median(on) / median(off),
                         median(cpuOn), median(cpuOff), median(cpuOff) / median(cpuOn)))
        }
        // --events 0: the fills alone (for profiling).
        for consumers in [1, 16] where o.events > 0 {
            var all: [Int64] = []
            for _ in 0..<o.repeats { all += try blocking { try await latency(consumers: consumers, events: o.events) } }
            print(String(format: "latency %2d consumer(s): p50 %7.1f µs   p99 %7.1f µs   (%d deliveries)",
                         consumers, Double(percentile(all, 0.5)) / 1000, Double(percentile(all, 0.99)) / 1000, all.count))
        }
    }
}
