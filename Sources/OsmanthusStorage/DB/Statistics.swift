import Atomics

/// Counters the engine keeps while running. Read with `DB.statistics` (a consistent-enough
/// snapshot of each counter; counters are independent).
public final class Statistics: Sendable {
    public enum Counter: Int, CaseIterable, Sendable {
        case keysWritten, bytesWritten, walBytes, walSyncs, writeGroups
        /// Group commit (SPEC.md §9.1): writers acknowledged by a log fsync (divided by `walSyncs`:
        /// writers per fsync), microseconds spent in those fsyncs, and how often and how long
        /// (µs) a syncer waited for the writers in play before its fsync.
        case walSyncedWriters, walSyncMicros, walSyncGathers, walSyncGatherMicros
        case gets, bytesRead, iteratorsCreated
        case flushes, flushBytes
        case compactions, compactionBytesRead, compactionBytesWritten, trivialMoves
        case writeSlowdowns, writeStops, stallMicros
        case bloomUseful
    }

    private let values: [ManagedAtomic<UInt64>]

    init() {
        values = Counter.allCases.map { _ in ManagedAtomic<UInt64>(0) }
    }

    @inline(__always)
    func add(_ counter: Counter, _ amount: UInt64 = 1) {
        values[counter.rawValue].wrappingIncrement(by: amount, ordering: .relaxed)
    }

    public func value(_ counter: Counter) -> UInt64 {
        values[counter.rawValue].load(ordering: .relaxed)
    }

    public var all: [(Counter, UInt64)] { Counter.allCases.map { ($0, value($0)) } }
}
