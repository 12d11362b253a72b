import NIOCore
import OsmanthusBSON
import Testing

@testable import OsmanthusWire

struct OpCompressedTests {
    static func insert(_ count: Int) -> WireMessage {
        let docs: [Document] = (0..<count).map { ["_id": .int32(Int32($0)), "text": .string(String(repeating: "osmanthus ", count: 20))] }
        let message = OpMsg(body: ["insert": "c", "$db": "test"], sequences: [.init(identifier: "documents", documents: docs)])
        return WireMessage(requestID: 9, body: .msg(message))
    }

    @Test(arguments: [Compressor.noop, Compressor.zstd])
    func compressedMessageRoundTripsAndRemembersItsCompressor(_ compressor: Compressor) throws {
        var message = Self.insert(50)
        message.compressor = compressor
        let bytes = try encode(message)
        #expect(bytes[12] == 0xdc && bytes[13] == 0x07)  // opCode 2012
        let plain = try encode(Self.insert(50))
        if compressor == .zstd { #expect(bytes.count < plain.count / 4) } else { #expect(bytes.count == plain.count + 9) }
        for chunk in [1, 100, bytes.count] {
            #expect(try decodeAll(bytes, chunkSize: chunk) == [message])
        }
    }

    @Test func checksumFlagIsDroppedInsideCompression() throws {
        let message = WireMessage(requestID: 1, body: .msg(OpMsg(flags: .checksumPresent, body: ["ping": 1])), compressor: .noop)
        let decoded = try decodeAll(try encode(message), chunkSize: 1)
        #expect(decoded.first?.opMsg?.flags == [])
        #expect(decoded.first?.compressor == .noop)
    }

    @Test func unsupportedCompressorIsRejected() throws {
        for id: UInt8 in [1, 2, 9] {
            var payload: [UInt8] = []
            appendInt32(2013, to: &payload)
            appendInt32(10, to: &payload)
            payload += [id] + [UInt8](repeating: 0, count: 10)
            #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2012, payload: payload), chunkSize: 1) } == .unsupportedCompressor)
        }
    }

    @Test func sizeMismatchAndCorruptDataAreRejected() throws {
        var message = Self.insert(5)
        message.compressor = .zstd
        let bytes = try encode(message)
        var wrongSize = bytes
        wrongSize[20] &+= 1  // uncompressedSize one larger
        #expect(wireErrorCode { _ = try decodeAll(wrongSize, chunkSize: 7) } == .malformed)
        var corrupt = bytes
        for i in 30..<corrupt.count { corrupt[i] ^= 0x5a }
        #expect(wireErrorCode { _ = try decodeAll(corrupt, chunkSize: 7) } == .malformed)
        var huge = bytes
        huge.replaceSubrange(20..<24, with: withUnsafeBytes(of: Int32(60_000_000).littleEndian, Array.init))
        #expect(wireErrorCode { _ = try decodeAll(huge, chunkSize: 7) } == .invalidLength)
    }

    @Test func compressedInsideCompressedIsRejected() throws {
        var payload: [UInt8] = []
        appendInt32(2012, to: &payload)
        appendInt32(4, to: &payload)
        payload += [0, 1, 2, 3, 4]
        #expect(wireErrorCode { _ = try decodeAll(frame(opCode: 2012, payload: payload), chunkSize: 1) } == .malformed)
    }
}
