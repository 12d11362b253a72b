import Testing

@testable import OsmanthusStorage

struct SyncGroupPacerTests {
    @Test func syncerNeverWaitsBeforeTheFirstSync() {
        let pacer = SyncGroupPacer()
        #expect(!pacer.shouldWait(pending: 1))
        #expect(pacer.maxWaitNanos == 0)
    }

    @Test func loneSyncWriterNeverWaits() {
        var pacer = SyncGroupPacer()
        pacer.record(writers: 1, syncNanos: 200_000)
        #expect(!pacer.shouldWait(pending: 1))
    }

    @Test func syncerWaitsUntilTheWritersInPlayAreBack() {
        var pacer = SyncGroupPacer()
        pacer.record(writers: 16, syncNanos: 250_000)
        #expect(pacer.expectedWriters == 16)
        #expect(pacer.shouldWait(pending: 1))
        #expect(pacer.shouldWait(pending: 15))
        #expect(!pacer.shouldWait(pending: 16))
        #expect(!pacer.shouldWait(pending: 20))
    }

    @Test func waitIsAboutOneFsyncAndCapped() {
        var pacer = SyncGroupPacer()
        pacer.record(writers: 4, syncNanos: 300_000)
        #expect(pacer.maxWaitNanos == 300_000)
        pacer.record(writers: 4, syncNanos: 50_000_000)
        #expect(pacer.maxWaitNanos == SyncGroupPacer.waitCapNanos)
        #expect(SyncGroupPacer.waitCapNanos <= 1_000_000)
    }

    @Test func smallerGroupAfterAWriterLeftLowersTheTarget() {
        var pacer = SyncGroupPacer()
        pacer.record(writers: 16, syncNanos: 250_000)
        pacer.record(writers: 15, syncNanos: 250_000)
        #expect(!pacer.shouldWait(pending: 15))
        #expect(pacer.shouldWait(pending: 14))
    }
}
