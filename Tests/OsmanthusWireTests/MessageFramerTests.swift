import NIOCore
import OsmanthusBSON
import Testing

@testable import OsmanthusWire

struct MessageFramerTests {
    /// Feeds `bytes` in the given chunk sizes (cycled), collecting the messages.
    private func frameAll(_ bytes: [UInt8], chunks: [Int], framer: inout MessageFramer) throws -> [WireMessage] {
        var messages: [WireMessage] = []
        var offset = 0
        var turn = 0
        while offset < bytes.count {
            let end = min(offset + chunks[turn % chunks.count], bytes.count)
            try framer.feed(ByteBuffer(bytes: bytes[offset..<end])) { messages.append($0) }
            offset = end
            turn += 1
        }
        return messages
    }

    private func sampleMessages(count: Int, rng: inout SplitMix64) -> [WireMessage] {
        (0..<count).map { i in
            let filler = String(repeating: "x", count: Int(rng.next() % 300))
            return WireMessage(requestID: Int32(i), body: .msg(OpMsg(body: ["find": "c", "n": .int32(Int32(i)), "f": .string(filler)])))
        }
    }

    /// Seeded random read boundaries (byte by byte up to several messages per read): the
    /// messages come out whole, in order, each as soon as its last byte arrives.
    @Test func randomReadBoundariesYieldEveryMessageInOrder() throws {
        let seed: UInt64 = 0x0F7A_3E11
        var rng = SplitMix64(seed: seed)
        for round in 0..<50 {
            let messages = sampleMessages(count: 1 + Int(rng.next() % 12), rng: &rng)
            let bytes = try messages.flatMap { try encode($0) }
            let chunks = (0..<8).map { _ in 1 + Int(rng.next() % 700) }
            var framer = MessageFramer()
            let framed = try frameAll(bytes, chunks: chunks, framer: &framer)
            #expect(framed == messages, "seed \(seed) round \(round) chunks \(chunks)")
            #expect(framer.bufferedBytes == 0)
        }
    }

    @Test func partialMessageIsHeldUntilItsLastByte() throws {
        let bytes = try encode(WireMessage(requestID: 3, body: .msg(OpMsg(body: ["ping": 1]))))
        var framer = MessageFramer()
        var messages: [WireMessage] = []
        try framer.feed(ByteBuffer(bytes: bytes.dropLast())) { messages.append($0) }
        #expect(messages.isEmpty)
        #expect(framer.bufferedBytes == bytes.count - 1)
        try framer.feed(ByteBuffer(bytes: bytes.suffix(1))) { messages.append($0) }
        #expect(messages.map(\.requestID) == [3])
        #expect(framer.bufferedBytes == 0)
    }

    /// A bad length ends the stream, but the whole messages before it in the same read are
    /// handed out first (the server answers them, then closes).
    @Test func badLengthThrowsAfterTheMessagesBeforeIt() throws {
        let good = try encode(WireMessage(requestID: 1, body: .msg(OpMsg(body: ["ping": 1]))))
        var bad: [UInt8] = []
        appendInt32(4, to: &bad)
        var framer = MessageFramer()
        var messages: [WireMessage] = []
        #expect(wireErrorCode { try framer.feed(ByteBuffer(bytes: good + bad)) { messages.append($0) } } == .invalidLength)
        #expect(messages.map(\.requestID) == [1])
    }

    /// A client that always leaves part of a message for the next read: what was framed is
    /// dropped before each append, so the held storage stays about one read's size.
    @Test func heldBytesDoNotGrowWithAStreamOfSplitMessages() throws {
        let one = try encode(WireMessage(requestID: 1, body: .msg(OpMsg(body: ["ping": 1, "pad": .string(String(repeating: "p", count: 200))]))))
        let bytes = Array(repeating: one, count: 400).flatMap { $0 }
        var framer = MessageFramer()
        var count = 0
        var most = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + one.count + 37, bytes.count)  // never on a boundary for long
            try framer.feed(ByteBuffer(bytes: bytes[offset..<end])) { _ in count += 1 }
            most = max(most, framer.bufferedCapacity)
            offset = end
        }
        #expect(count == 400)
        #expect(most < 8 * one.count)  // a power-of-two allocation of about two reads; unbounded: ~400 messages
        #expect(framer.bufferedBytes == 0)
    }
}
