import NIOCore
import OsmanthusBSON
import Testing

@testable import OsmanthusWire

struct MessageDecoderTests {
    @Test(arguments: [Int32.min, -1, 0, 4, 15])
    func lengthBelowTheHeaderIsRejected(_ length: Int32) throws {
        var bytes: [UInt8] = []
        appendInt32(length, to: &bytes)
        // Rejected as soon as the length is readable: no waiting for the rest.
        #expect(wireErrorCode { _ = try decodeAll(bytes, chunkSize: 1) } == .invalidLength)
    }

    @Test func lengthAboveTheMaximumIsRejectedBeforeTheBodyArrives() throws {
        var bytes: [UInt8] = []
        appendInt32(Int32(WireFormat.maxMessageSizeBytes + 1), to: &bytes)
        #expect(wireErrorCode { _ = try decodeAll(bytes, chunkSize: 4) } == .invalidLength)
        let small = MessageDecoder(maxMessageSize: 64)
        let message = try encode(WireMessage(requestID: 1, body: .msg(OpMsg(body: ["x": .string(String(repeating: "a", count: 64))]))))
        #expect(wireErrorCode { _ = try decodeAll(message, chunkSize: 1, decoder: small) } == .invalidLength)
    }

    @Test func partialMessageConsumesNothingUntilComplete() throws {
        let bytes = try encode(WireMessage(requestID: 1, body: .msg(OpMsg(body: ["ping": 1]))))
        var buffer = ByteBuffer(bytes: bytes.dropLast())
        #expect(try MessageDecoder().next(from: &buffer) == nil)
        #expect(buffer.readableBytes == bytes.count - 1)
        buffer.writeBytes(bytes.suffix(1))
        #expect(try MessageDecoder().next(from: &buffer)?.opMsg?.body == ["ping": 1])
        #expect(buffer.readableBytes == 0)
    }

    @Test func severalMessagesInOneChunkAllDecodeInOrder() throws {
        let messages = (0..<5).map { WireMessage(requestID: Int32($0), body: .msg(OpMsg(body: ["n": .int32(Int32($0))]))) }
            + [WireMessage(requestID: 9, body: .query(OpQuery(fullCollectionName: "admin.$cmd", query: ["isMaster": 1])))]
        let bytes = try messages.flatMap { try encode($0) }
        for chunk in [1, 5, 16, 17, bytes.count] {
            #expect(try decodeAll(bytes, chunkSize: chunk) == messages)
        }
    }

    @Test(arguments: [Int32(2001), 2002, 2005, 2006, 2007, 99, -5])
    func removedOrUnknownOpCodesAreRejected(_ opCode: Int32) throws {
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: opCode, payload: [0, 0, 0, 0]), chunkSize: 1) } == .unsupportedOpCode)
    }

    /// Random payloads under every opCode, and random corruptions of valid messages: each one
    /// must decode or throw a WireError, never crash or hang.
    @Test func garbageNeverCrashesTheDecoder() throws {
        var rng = SplitMix64(seed: 0x05A4_7A55)
        let opCodes: [Int32] = [1, 2004, 2012, 2013]
        var decodedCount = 0
        var rejectedCount = 0
        let valid = try encode(
            WireMessage(
                requestID: 1,
                body: .msg(OpMsg(body: ["insert": "c"], sequences: [.init(identifier: "documents", documents: [["a": 1], ["b": [1, 2]]])]))))
        for round in 0..<2000 {
            let bytes: [UInt8]
            if round % 2 == 0 {
                let length = Int(rng.next() % 80)
                let payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                bytes = frame(opCode: opCodes[Int(rng.next() % 4)], payload: payload)
            } else {
                var corrupt = valid
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let at = 4 + Int(rng.next() % UInt64(corrupt.count - 4))  // keep the length intact
                    corrupt[at] = UInt8(truncatingIfNeeded: rng.next())
                }
                bytes = corrupt
            }
            do {
                decodedCount += try decodeAll(bytes, chunkSize: 1 + round % 9).count
            } catch is WireError {
                rejectedCount += 1
            }
        }
        #expect(decodedCount + rejectedCount == 2000, "seed 0x05A47A55")
        #expect(rejectedCount > 1000)
    }
}

/// A small seeded generator, so a failing garbage run can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
