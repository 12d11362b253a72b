import Testing

@testable import OsmanthusBSON

/// `Document.forEachRawField` sees what the iterator sees: the same keys in the same order,
/// the same values, and byte-exact key matching.
struct RawFieldsTests {
    @Test func rawWalkAgreesWithTheIteratorOnEveryCorpusDocument() throws {
        let corpus = try BSONCorpusTests.loadCorpus()
        var documents = 0
        for bytes in corpus.valid.map(\.canonicalBSON) {
            guard let document = try? Document(bytes: bytes) else { continue }
            documents += 1
            var walked: [(key: String, count: Int, value: BSONValue)] = []
            document.forEachRawField { walked.append(($0.key, $0.keyCount, $0.value)) }
            let iterated = Array(document)
            #expect(walked.count == iterated.count, "\(document)")
            for (raw, expected) in zip(walked, iterated) {
                #expect(raw.key == expected.key)
                #expect(raw.count == expected.key.utf8.count)
                #expect(raw.value == expected.value)
            }
        }
        #expect(documents > 300)
    }

    @Test func keyEqualsMatchesExactBytesOnly() {
        let document: Document = ["lsid": 1, "lsi": 2, "lsidx": 3, "Lsid": 4, "": 5, "é": 6]
        var matches: [String: Bool] = [:]
        var emptyMatches: [String: Bool] = [:]
        var accentMatches: [String: Bool] = [:]
        document.forEachRawField { raw in
            matches[raw.key] = raw.keyEquals("lsid")
            emptyMatches[raw.key] = raw.keyEquals("")
            accentMatches[raw.key] = raw.keyEquals("é")
        }
        #expect(matches == ["lsid": true, "lsi": false, "lsidx": false, "Lsid": false, "": false, "é": false])
        #expect(emptyMatches.filter(\.value).map(\.key) == [""])
        #expect(accentMatches.filter(\.value).map(\.key) == ["é"])
    }

    @Test func keyWordsAgreeWithTheSpelledKeyAndTellKeysOfOneLengthApart() {
        // Keys of 0 to 23 bytes, some multi-byte UTF-8, each last in its document too (where
        // fewer than eight bytes follow the key's start).
        let keys = ["", "a", "$db", "lsid", "limit", "filter", "é", "singleBatch", "topologyVersion",
            "speculativeAuthenticate", "speculativeAuthenticatE", "αβγδεζηθ", "12345678", "123456789"]
        for key in keys {
            for document in [Document([(key, .int32(1))]), Document([("x", .int32(1)), (key, .null)])] {
                document.forEachRawField { raw in
                    guard raw.key == key else { return }
                    let bytes = Array(key.utf8)
                    for offset in stride(from: 0, through: 16, by: 8) {
                        var expected: UInt64 = 0
                        for (index, byte) in bytes.dropFirst(offset).prefix(8).enumerated() {
                            expected |= UInt64(byte) << (8 * UInt64(index))
                        }
                        #expect(raw.keyWord(at: offset) == expected, "\(key) at \(offset)")
                    }
                }
            }
        }
        var words: [String: UInt64] = [:]
        let spelled: Document = ["lsid": 1, "lsiD": 2, "Lsid": 3]
        spelled.forEachRawField { words[$0.key] = $0.keyWord(at: 0) }
        #expect(words["lsid"] == Document.RawField.keyWord("lsid", at: 0))
        #expect(words["lsiD"] != words["lsid"] && words["Lsid"] != words["lsid"])
        #expect(Document.RawField.keyWord("speculativeAuthenticate", at: 16) == Document.RawField.keyWord("speculativeAuthenticatE", at: 16) ^ (UInt64(UInt8(ascii: "e") ^ UInt8(ascii: "E")) << 48))
    }

    @Test func duplicateKeysAreAllWalkedInOrder() throws {
        var document = Document()
        document.append("a", 1)
        document.append("b", 2)
        document.append("a", 3)
        var seen: [(String, BSONValue)] = []
        document.forEachRawField { seen.append(($0.key, $0.value)) }
        #expect(seen.map(\.0) == ["a", "b", "a"])
        #expect(seen.map(\.1) == [.int32(1), .int32(2), .int32(3)])
    }
}
