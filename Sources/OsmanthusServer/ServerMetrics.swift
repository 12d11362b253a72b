import CoreMetrics
import Osmanthus
import OsmanthusStorage
import Synchronization

/// The server's swift-metrics instruments (exposed on the HTTP port's `/metrics` by whatever
/// backend the process bootstrapped; `osmanthus serve` uses swift-prometheus). Any component
/// can add its own by creating swift-metrics instruments; they appear in the same exposition.
///
/// Names (SPEC §13.2): `osmanthus_commands_total{command}`, `osmanthus_command_failures_total
/// {command}`, `osmanthus_command_duration_seconds{command}` (a histogram),
/// `osmanthus_connections_open`, `osmanthus_cursors_open`, `osmanthus_sessions_open`,
/// `osmanthus_engine_events_total{event}` (the storage engine's `Statistics` counters).
final class ServerMetrics: Sendable {
    private struct CommandInstruments: Sendable {
        let count: Counter
        let failures: Counter
        let latency: CoreMetrics.Timer
    }

    /// Per command name (only names in the command table, plus "unknown": bounded labels).
    private let commands = Mutex<[String: CommandInstruments]>([:])
    let openConnections = Gauge(label: "osmanthus_connections_open")
    private let openCursors = Gauge(label: "osmanthus_cursors_open")
    private let openSessions = Gauge(label: "osmanthus_sessions_open")
    private let engineEvents: [Counter]
    /// The engine counters' values at the last refresh (the Counters get the difference).
    private let engineSeen = Mutex<[UInt64]>(Array(repeating: 0, count: Statistics.Counter.allCases.count))

    init() {
        engineEvents = Statistics.Counter.allCases.map {
            Counter(label: "osmanthus_engine_events_total", dimensions: [("event", "\($0)")])
        }
    }

    /// Records one finished command.
    func commandFinished(_ name: String, nanoseconds: Int64, failed: Bool) {
        let instruments = commands.withLock { table in
            if let found = table[name] { return found }
            let made = CommandInstruments(
                count: Counter(label: "osmanthus_commands_total", dimensions: [("command", name)]),
                failures: Counter(label: "osmanthus_command_failures_total", dimensions: [("command", name)]),
                latency: CoreMetrics.Timer(label: "osmanthus_command_duration_seconds", dimensions: [("command", name)]))
            table[name] = made
            return made
        }
        instruments.count.increment()
        if failed { instruments.failures.increment() }
        instruments.latency.recordNanoseconds(nanoseconds)
    }

    /// Brings the sampled values up to date; called before each scrape.
    func refresh(cursors: Int, sessions: Int, engine: Statistics) {
        openCursors.record(cursors)
        openSessions.record(sessions)
        let now = Statistics.Counter.allCases.map { engine.value($0) }
        let deltas = engineSeen.withLock { seen -> [UInt64] in
            defer { seen = now }
            return zip(now, seen).map { $0 >= $1 ? $0 - $1 : 0 }
        }
        for (counter, delta) in zip(engineEvents, deltas) where delta > 0 {
            counter.increment(by: delta)
        }
    }
}
