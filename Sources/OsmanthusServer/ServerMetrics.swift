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
    /// One command name's instruments.
    private final class CommandInstruments: Sendable {
        let count: Counter
        let failures: Counter
        let latency: CoreMetrics.Timer

        init(_ name: String) {
            count = Counter(label: "osmanthus_commands_total", dimensions: [("command", name)])
            failures = Counter(label: "osmanthus_command_failures_total", dimensions: [("command", name)])
            latency = CoreMetrics.Timer(label: "osmanthus_command_duration_seconds", dimensions: [("command", name)])
        }
    }

    /// One command name's instruments, made the first time the command finishes (a name never
    /// run has no series) and then read with one atomic load: no lock and no dictionary per
    /// command. `@unchecked Sendable`: `made` is only written under `lock`, once.
    private final class Slot: @unchecked Sendable {
        let name: String
        private let made = Atomic<Unmanaged<CommandInstruments>?>(nil)
        private let lock = Mutex<Void>(())

        init(name: String) { self.name = name }

        deinit { made.load(ordering: .acquiring)?.release() }

        var instruments: CommandInstruments {
            if let made = made.load(ordering: .acquiring) { return made.takeUnretainedValue() }
            return lock.withLock { _ in
                if let made = made.load(ordering: .acquiring) { return made.takeUnretainedValue() }
                let fresh = CommandInstruments(name)
                made.store(Unmanaged.passRetained(fresh), ordering: .releasing)
                return fresh
            }
        }
    }

    /// By the dispatcher's command slot (`CommandDispatcher.names`), then "unknown" (bounded
    /// labels: only names in the command table).
    private let slots: [Slot]
    let openConnections = Gauge(label: "osmanthus_connections_open")
    private let openCursors = Gauge(label: "osmanthus_cursors_open")
    private let openSessions = Gauge(label: "osmanthus_sessions_open")
    private let engineEvents: [Counter]
    /// The engine counters' values at the last refresh (the Counters get the difference).
    private let engineSeen = Mutex<[UInt64]>(Array(repeating: 0, count: Statistics.Counter.allCases.count))

    /// `commandNames[i]` is slot i; slot `commandNames.count` counts unknown commands.
    init(commandNames: [String]) {
        slots = (commandNames + ["unknown"]).map { Slot(name: $0) }
        engineEvents = Statistics.Counter.allCases.map {
            Counter(label: "osmanthus_engine_events_total", dimensions: [("event", "\($0)")])
        }
    }

    /// The slot of commands not in the table.
    var unknownSlot: Int { slots.count - 1 }

    /// Records one finished command, by its name's slot.
    func commandFinished(slot: Int, nanoseconds: Int64, failed: Bool) {
        let instruments = slots[min(max(slot, 0), slots.count - 1)].instruments
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
