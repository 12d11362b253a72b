import Atomics

/// Counters the engine keeps while running. Read with `DB.statistics` (a consistent-enough
/// snapshot of each counter; counters are independent).
// `@unchecked Sendable`: its only state is the counters' atomic storage, touched only through
// atomic operations, allocated once and freed with it.
public final class Statistics: @unchecked Sendable {
    public enum Counter: Int, CaseIterable, Sendable {
        case keysWritten, bytesWritten, walBytes, walSyncs, writeGroups
        /// Group commit (SPEC.md §9.1): writers acknowledged by a log fsync (divided by `walSyncs`:
        /// writers per fsync), microseconds spent in those fsyncs, and how often and how long
        /// (µs) a syncer waited for the writers in play before its fsync; `walSyncHandOffs`: how
        /// many of those fsyncs the writer that completed the wait ran itself.
        case walSyncedWriters, walSyncMicros, walSyncGathers, walSyncGatherMicros, walSyncHandOffs
        case gets, bytesRead, iteratorsCreated
        case flushes, flushBytes
        case compactions, compactionBytesRead, compactionBytesWritten, trivialMoves
        case writeSlowdowns, writeStops, stallMicros
        case bloomUseful
    }

    /// One atomic word per counter in one allocation: counting is an atomic add at a fixed
    /// address, with no array of objects to retain and release on every write and read.
    private let values: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>

    init() {
        values = .allocate(capacity: Counter.allCases.count)
        values.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: Counter.allCases.count)
    }

    deinit {
        values.deinitialize(count: Counter.allCases.count)
        values.deallocate()
    }

    @inline(__always)
    func add(_ counter: Counter, _ amount: UInt64 = 1) {
        UnsafeAtomic(at: values + counter.rawValue).wrappingIncrement(by: amount, ordering: .relaxed)
    }

    public func value(_ counter: Counter) -> UInt64 {
        UnsafeAtomic(at: values + counter.rawValue).load(ordering: .relaxed)
    }

    public var all: [(Counter, UInt64)] { Counter.allCases.map { ($0, value($0)) } }
}
