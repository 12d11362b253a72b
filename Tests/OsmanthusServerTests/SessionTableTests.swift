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

    @Test func lookupsOfATableWithRoomNeverSweep() throws {
        // Lookups run on event loops: however idle the sessions, only `sweep` (on the thread
        // pool) or a full table forgets them.
        let sessions = table(max: 100, timeout: .nanoseconds(0))
        let first = try #require(try sessions.session(for: lsid(0)))
        for n in 1..<50 { _ = try sessions.session(for: lsid(n)) }
        #expect(sessions.count == 50)
        #expect(try sessions.session(for: lsid(0)) === first)
    }

    @Test func aSweepForgetsTheSessionsIdlePastTheTimeoutAndKeepsTheOthers() throws {
        let timeout = TimeAmount.minutes(30)
        let sessions = table(max: 1000, timeout: timeout)
        // Many sessions, spread over the shards; then one used strictly later than all of them.
        let old = try (0..<200).map { try #require(try sessions.session(for: lsid($0))) }
        let newest = old.map(\.lastUsedNanoseconds).max() ?? 0
        var fresh = try #require(try sessions.session(for: lsid(1000)))
        while fresh.lastUsedNanoseconds <= newest { fresh = try #require(try sessions.session(for: lsid(1000))) }
        // The cutoff falls between the old sessions and the fresh one.
        let now = NIODeadline.uptimeNanoseconds(fresh.lastUsedNanoseconds) + timeout
        #expect(sessions.sweep(now: now) == 200)
        #expect(sessions.count == 1)
        #expect(try sessions.session(for: lsid(1000)) === fresh)
        // A forgotten lsid used again is a new session.
        #expect(try sessions.session(for: lsid(0)) !== old[0])
        #expect(sessions.count == 2)
    }

    @Test func aSweepBeforeTheTimeoutForgetsNothing() throws {
        let sessions = table(max: 1000, timeout: .minutes(30))
        for n in 0..<100 { _ = try sessions.session(for: lsid(n)) }
        #expect(sessions.sweep(now: .now() + .minutes(29)) == 0)
        #expect(sessions.count == 100)
        #expect(sessions.sweep(now: .now() + .minutes(31)) == 100)
        #expect(sessions.count == 0)
    }

    @Test func endingSessionsInManyShardsForgetsExactlyThose() throws {
        let sessions = table(max: 1000)
        for n in 0..<300 { _ = try sessions.session(for: lsid(n)) }
        sessions.end((0..<300).filter { $0 % 3 == 0 }.map(lsid))
        #expect(sessions.count == 200)
        sessions.end(nil)
        #expect(sessions.count == 0)
    }

    @Test func aCachedSessionIsReusedOnlyForItsOwnLsid() throws {
        let sessions = table(max: 100)
        let first = try #require(try sessions.session(for: lsid(1)))
        #expect(try sessions.session(for: lsid(1), reusing: first) === first)
        let second = try #require(try sessions.session(for: lsid(2), reusing: first))
        #expect(second !== first)
        #expect(second.lsid == lsid(2))
        #expect(try sessions.session(for: lsid(2)) === second)
        #expect(try sessions.session(for: nil, reusing: first) == nil)
        #expect(sessions.count == 2)
    }

    @Test func anEndedExpiredOrKilledSessionIsNeverReusedFromACache() throws {
        let sessions = table(max: 100, timeout: .minutes(30))
        // endSessions.
        let ended = try #require(try sessions.session(for: lsid(1)))
        sessions.end([lsid(1)])
        let afterEnd = try #require(try sessions.session(for: lsid(1), reusing: ended))
        #expect(afterEnd !== ended)
        #expect(try sessions.session(for: lsid(1)) === afterEnd)
        // killAllSessions.
        sessions.end(nil)
        let afterKill = try #require(try sessions.session(for: lsid(1), reusing: afterEnd))
        #expect(afterKill !== afterEnd)
        // Expiry.
        #expect(sessions.sweep(now: .now() + .minutes(31)) == 1)
        let afterSweep = try #require(try sessions.session(for: lsid(1), reusing: afterKill))
        #expect(afterSweep !== afterKill)
        #expect(sessions.count == 1)
    }

    /// Lookups, ends and re-creations against a dictionary model: one session per distinct
    /// lsid document (UUID-shaped ids, with and without a `uid`, and lsids that differ only in a
    /// field's type), the same object for every lookup of an lsid until it is ended.
    @Test func seededLookupsAndEndsMatchADictionaryModel() throws {
        for seed in UInt64(1)...20 {
            var random = SplitMix64(seed: seed)
            let sessions = table(max: 10_000)
            let lsids: [BSONValue] = (0..<60).map { n in
                let id = BSONValue.binary(BSONBinary(subtype: .uuid, data: (0..<16).map { _ in UInt8(n % 7) &+ UInt8(n / 7) }))
                switch n % 3 {
                case 0: return .document(["id": id])
                case 1: return .document(["id": id, "uid": .binary(BSONBinary(subtype: .generic, data: [UInt8(n)]))])
                default: return .document(["id": .int64(Int64(n / 3))])  // not a UUID
                }
            }
            var model: [BSONValue: ServerSession] = [:]
            // A connection's cache (`SessionCache`): half the lookups go through it, and it
            // must answer exactly as the table does.
            var cached: ServerSession?
            for step in 0..<600 {
                let lsid = lsids[Int.random(in: 0..<lsids.count, using: &random)]
                if Int.random(in: 0..<5, using: &random) == 0 {
                    sessions.end([lsid])
                    model[lsid] = nil
                } else {
                    let throughCache = Bool.random(using: &random)
                    let session = try #require(
                        try throughCache ? sessions.session(for: lsid, reusing: cached) : sessions.session(for: lsid))
                    if throughCache { cached = session }
                    if let known = model[lsid] {
                        #expect(session === known, "seed \(seed) step \(step): a known lsid got another session")
                    } else {
                        #expect(!model.values.contains { $0 === session }, "seed \(seed) step \(step): sessions shared")
                        model[lsid] = session
                    }
                    #expect(session.lsid == lsid)
                }
                #expect(sessions.count == model.count, "seed \(seed) step \(step)")
            }
        }
    }
}
