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
