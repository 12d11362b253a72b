import Glibc
import Testing

@testable import OsmanthusStorage

/// A group-commit writer's wait slot: a release ends only the wait of the write it names, and
/// no wake-up is lost for coming before the wait.
struct ParkerTests {
    private func inMillis(_ ms: UInt64) -> UInt64 { monotonicNanos() + ms * 1_000_000 }

    @Test func aReleaseGivenBeforeTheWaitIsNotLost() {
        let parker = Parker()
        parker.release(ticket: 3)
        #expect(parker.park(ticket: 3, deadline: inMillis(10_000)))
    }

    /// A pooled writer's late release, meant for its previous write, must not end the wait of
    /// its next one: that would acknowledge a write before it is durable.
    @Test func aReleaseForAnEarlierTicketDoesNotEndALaterWait() {
        let parker = Parker()
        parker.release(ticket: 1)
        #expect(!parker.park(ticket: 2, deadline: inMillis(20)))
    }

    @Test func anUnparkEndsTheWaitWithoutReleasingIt() {
        let parker = Parker()
        parker.unpark()
        #expect(!parker.park(ticket: 1, deadline: inMillis(10_000)))
    }

    /// Another thread releases a stale ticket, then the right one: the waiter sees the second.
    @Test func aWaiterOnAnotherThreadIsReleasedByItsOwnTicket() throws {
        let parker = Parker()
        let results = ResultBox()
        try runConcurrently(2) { t in
            if t == 0 {
                results.set(parker.park(ticket: 5, deadline: monotonicNanos() + 60_000_000_000))
            } else {
                parker.release(ticket: 4)
                parker.release(ticket: 5)
            }
        }
        #expect(results.value == true)
    }
}

/// One Bool written by one thread and read after it joined.
private final class ResultBox: @unchecked Sendable {
    // `@unchecked Sendable`: `lock` guards `stored`.
    private let lock = Monitor()
    private var stored: Bool?
    func set(_ v: Bool) { lock.withLock { stored = v } }
    var value: Bool? { lock.withLock { stored } }
}
