import Testing

@testable import OsmanthusBSON

/// Inputs `Tools/fuzz-bson` found; each must keep the fuzz property (a decoded document decodes
/// again from its own bytes to itself, and rebuilds from its values to the same bytes).
struct FuzzRegressionTests {
    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let j = text.index(i, offsetBy: 2)
            out.append(UInt8(text[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }

    @Test(arguments: [
        // Regex options "Ϝ\u{6}": sorting their bytes used to break the UTF-8 of "Ϝ".
        "0f0000000b0600656200cf9c060000",
    ])
    func decodedDocumentReencodesToItself(_ input: String) throws {
        let document = try Document(bytes: Self.hex(input))
        #expect(try Document(bytes: document.bytes) == document)
        #expect(Document(document.map { ($0.key, $0.value) }) == document)
    }

    @Test func nonASCIIRegexOptionsAreSortedByScalar() {
        #expect(BSONWriter.sortedOptions("Ϝ\u{6}a") == "\u{6}aϜ")
        #expect(BSONWriter.sortedOptions("\u{6}aϜ") == "\u{6}aϜ")
        #expect(BSONWriter.sortedOptions("smi") == "ims")
    }
}
