import Testing

@testable import OsmanthusBSON

struct ObjectIdTests {
    @Test func hexRoundTripsInEitherCase() throws {
        let id = try ObjectId("56E1FC72e0c917e9c4714161")
        #expect(id.hex == "56e1fc72e0c917e9c4714161")
        #expect(id.bytes == [0x56, 0xE1, 0xFC, 0x72, 0xE0, 0xC9, 0x17, 0xE9, 0xC4, 0x71, 0x41, 0x61])
        #expect(ObjectId(bytes: id.bytes) == id)
        #expect(id.seconds == 0x56E1_FC72)
    }

    @Test func malformedHexIsRejected() {
        for bad in ["", "56e1fc72e0c917e9c471416", "56e1fc72e0c917e9c47141611", "zze1fc72e0c917e9c4714161"] {
            #expect(ObjectId(hex: bad) == nil)
            #expect(throws: BSONError.self) { try ObjectId(bad) }
        }
        #expect(ObjectId(bytes: [1, 2, 3]) == nil)
    }

    @Test func generatedIdsAreUniqueAndCarryTheTime() {
        var seen = Set<ObjectId>()
        for _ in 0..<10_000 { seen.insert(ObjectId()) }
        #expect(seen.count == 10_000)
        let id = ObjectId()
        let a = ObjectId()
        let b = ObjectId()
        #expect(a.seconds > 1_600_000_000, "seconds since the epoch, big-endian in the first 4 bytes")
        #expect(Array(a.bytes[4..<9]) == Array(b.bytes[4..<9]), "same process-unique bytes")
        #expect(id.bytes.count == 12)
    }

    @Test func counterIncrementsBetweenConsecutiveIds() {
        let a = ObjectId()
        let b = ObjectId()
        let counterA = UInt32(a.bytes[9]) << 16 | UInt32(a.bytes[10]) << 8 | UInt32(a.bytes[11])
        let counterB = UInt32(b.bytes[9]) << 16 | UInt32(b.bytes[10]) << 8 | UInt32(b.bytes[11])
        // Other tests may generate ids concurrently, so only "later", modulo 2^24.
        #expect(counterB != counterA)
        #expect((counterB &- counterA) & 0xFF_FFFF < 1 << 20)
    }

    @Test func orderIsByteOrder() {
        let low = ObjectId(seconds: 1, processUnique: 0xFF_FFFF_FFFF, counter: 0xFF_FFFF)
        let high = ObjectId(seconds: 2, processUnique: 0, counter: 0)
        #expect(low < high)
        #expect(
            ObjectId(seconds: 1, processUnique: 0, counter: 1)
                < ObjectId(seconds: 1, processUnique: 0, counter: 2))
        #expect(BSONValue.compare(.objectId(low), .objectId(high)) == -1)
    }

    @Test func partsLandInTheRightBytes() {
        let id = ObjectId(seconds: 0x0102_0304, processUnique: 0x05_0607_0809, counter: 0x0A_0B0C)
        #expect(id.bytes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    }
}
