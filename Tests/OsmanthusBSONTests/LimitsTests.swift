import Testing

@testable import OsmanthusBSON

struct LimitsTests {
    /// `{"b": <binary of n bytes>}` as raw bytes, so tests can build documents of exact sizes.
    static func documentWithBinary(totalSize: Int) -> [UInt8] {
        let payload = totalSize - 4 - 1 - 2 - 5 - 1  // length, type, "b\0", binary header, terminator
        var bytes = [UInt8]()
        bytes.reserveCapacity(totalSize)
        withUnsafeBytes(of: Int32(totalSize).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += [0x05, 0x62, 0x00]
        withUnsafeBytes(of: Int32(payload).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(0)
        bytes += [UInt8](repeating: 0xAB, count: payload)
        bytes.append(0)
        return bytes
    }

    /// `{"a": {"a": ... {}}}` with `levels` documents in all (the top level counts as one).
    static func nestedDocument(levels: Int) -> Document {
        var document = Document()
        for _ in 1..<levels { document = ["a": .document(document)] }
        return document
    }

    static func expectLimitError(_ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let error as BSONError {
            #expect(error.code == .limitExceeded, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func documentOf16MiBIsAcceptedAnd17MiBRejected() throws {
        let atLimit = Self.documentWithBinary(totalSize: BSONLimits.maxDocumentSize)
        let document = try Document(bytes: atLimit)
        #expect(document.byteCount == 16 * 1024 * 1024)
        #expect(try document.encode().count == atLimit.count)

        let over = Self.documentWithBinary(totalSize: 17 * 1024 * 1024)
        Self.expectLimitError { _ = try Document(bytes: over) }
        let oneByteOver = Self.documentWithBinary(totalSize: BSONLimits.maxDocumentSize + 1)
        Self.expectLimitError { _ = try Document(bytes: oneByteOver) }
    }

    @Test func encodingA17MiBDocumentIsRejected() throws {
        var document = Document()
        document.append("blob", .binary(BSONBinary(data: [UInt8](repeating: 1, count: 17 * 1024 * 1024))))
        Self.expectLimitError { _ = try document.encode() }
        Self.expectLimitError { try document.checkLimits() }

        Self.expectLimitError {
            _ = try BSONEncoder().encode([
                "blob": BSONValue.binary(BSONBinary(data: [UInt8](repeating: 0, count: 17 << 20)))
            ])
        }
    }

    @Test func depth100IsAcceptedAndDepth101Rejected() throws {
        let deepest = Self.nestedDocument(levels: 100)
        #expect(try Document(bytes: deepest.bytes) == deepest)
        #expect(try deepest.encode() == deepest.bytes)

        let tooDeep = Self.nestedDocument(levels: 101)
        Self.expectLimitError { _ = try Document(bytes: tooDeep.bytes) }
        Self.expectLimitError { _ = try tooDeep.encode() }
    }

    @Test func arraysAndScopesCountAsLevels() throws {
        var value = BSONValue.array([])
        for _ in 0..<99 { value = .array([value]) }  // 100 arrays under the top level: 101 levels
        let document: Document = ["a": value]
        Self.expectLimitError { _ = try Document(bytes: document.bytes) }
        let withScope: Document = [
            "c": .javascriptWithScope(code: "", scope: Self.nestedDocument(levels: 100))
        ]
        Self.expectLimitError { _ = try Document(bytes: withScope.bytes) }
    }

    @Test func extremelyDeepInputIsRejectedWithoutExhaustingTheStack() throws {
        let levels = 100_000
        var bytes = [UInt8]()
        // {"a": {"a": ... }} written directly: each level is length ‖ 0x03 "a" 0 ‖ child ‖ 0.
        var lengths = [Int](repeating: 0, count: levels)
        lengths[levels - 1] = 5
        for i in stride(from: levels - 2, through: 0, by: -1) { lengths[i] = lengths[i + 1] + 8 }
        for i in 0..<levels {
            withUnsafeBytes(of: Int32(lengths[i]).littleEndian) { bytes.append(contentsOf: $0) }
            if i < levels - 1 { bytes += [0x03, 0x61, 0x00] }
        }
        bytes += [UInt8](repeating: 0, count: levels)
        Self.expectLimitError { _ = try Document(bytes: bytes) }

        let json = String(repeating: "{\"a\": ", count: levels) + "1" + String(repeating: "}", count: levels)
        Self.expectLimitError { _ = try Document(extendedJSON: json) }
        let shallowJSON =
            "{\"a\": " + String(repeating: "[", count: 150) + String(repeating: "]", count: 150) + "}"
        Self.expectLimitError { _ = try Document(extendedJSON: shallowJSON) }
    }

    @Test func maximumDepthIsReportedWithOffset() throws {
        do {
            _ = try Document(bytes: Self.nestedDocument(levels: 101).bytes)
            Issue.record("a 101-level document decoded")
        } catch let error as BSONError {
            #expect(error.code == .limitExceeded)
            #expect(error.offset == 7 * 100, "the 101st document starts after 100 headers of 7 bytes")
        }
    }
}
