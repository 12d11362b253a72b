import NIOCore
import Osmanthus
import OsmanthusBSON
import Testing

@testable import OsmanthusServer

/// The session table stays bounded whatever lsids clients invent.
struct SessionTableTests {
    private func lsid(_ n: Int) -> BSONValue { .document(["id": .int64(Int64(n))]) }

    private func table(max: Int, timeout: TimeAmount = .minutes(30)) -> SessionTable {
        SessionTable(
            cursors: CursorManager(idleTimeout: .minutes(10), maxPerConnection: 10), changeStreams: ChangeStreamCursors(),
            timeout: timeout,
            sweepInterval: .minutes(1), maxSessions: max)
    }

    @Test func aFullTableRefusesNewSessionsWithTooManyLogicalSessions() throws {
        let sessions = table(max: 3)
        for n in 0..<3 { #expect(try sessions.session(for: lsid(n)) != nil) }
        #expect(throws: OsmanthusError.self) { try sessions.session(for: lsid(3)) }
        do {
            _ = try sessions.session(for: lsid(3))
        } catch let e as OsmanthusError {
            #expect(e.code.value == 261)
        }
        // Known sessions still work, and ending one makes room.
        #expect(try sessions.session(for: lsid(1)) != nil)
        sessions.end([lsid(0)])
        #expect(try sessions.session(for: lsid(3)) != nil)
        #expect(sessions.count == 3)
    }

    @Test func aFullTableFirstForgetsExpiredSessions() throws {
        let sessions = table(max: 2, timeout: .nanoseconds(0))
        #expect(try sessions.session(for: lsid(0)) != nil)
        #expect(try sessions.session(for: lsid(1)) != nil)
        // Both are idle past a zero timeout: a new one evicts them instead of failing.
        #expect(try sessions.session(for: lsid(2)) != nil)
        #expect(sessions.count == 1)
    }
}
