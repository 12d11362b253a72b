import Osmanthus
import Testing

@testable import OsmanthusServer

/// SASLprep against the examples of RFC 4013 §3 and the rules it names.
struct SASLprepTests {
    private func failure(_ input: String) -> String? {
        do {
            _ = try SASLprep.prepare(input)
            return nil
        } catch let error as OsmanthusError {
            #expect(error.code == .badValue)
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func rfc4013ExamplesMapAndNormalise() throws {
        #expect(try SASLprep.prepare("I\u{00AD}X") == "IX")  // soft hyphen mapped to nothing
        #expect(try SASLprep.prepare("user") == "user")
        #expect(try SASLprep.prepare("USER") == "USER")  // no case folding
        #expect(try SASLprep.prepare("\u{00AA}") == "a")  // NFKC
        #expect(try SASLprep.prepare("\u{2168}") == "IX")  // NFKC
    }

    @Test func nonASCIISpacesBecomeSpacesAndZeroWidthSpaceVanishes() throws {
        #expect(try SASLprep.prepare("a\u{00A0}b\u{3000}c") == "a b c")
        #expect(try SASLprep.prepare("a\u{200B}b") == "ab")
    }

    @Test func printableASCIIIsUnchanged() throws {
        let ascii = String(decoding: (0x20..<0x7F).map { UInt8($0) }, as: UTF8.self)
        #expect(try SASLprep.prepare(ascii) == ascii)
    }

    @Test func prohibitedCharactersAreNamedInTheError() {
        #expect(failure("\u{0007}")?.contains("U+0007") == true)  // RFC 4013's example
        #expect(failure("a\u{E000}")?.contains("private use") == true)
        #expect(failure("a\u{FFFF}")?.contains("non-character") == true)
        #expect(failure("a\u{E0041}")?.contains("tagging") == true)
        #expect(failure("a\u{200E}")?.contains("display") == true)
        #expect(failure("\u{0085}")?.contains("control") == true)
    }

    @Test func rightToLeftTextMustNotMixWithLeftToRightAndMustBracketTheString() throws {
        #expect(failure("\u{0627}\u{0031}") != nil)  // RFC 4013's example: ends with a digit
        #expect(failure("\u{05D0}a\u{05D1}") != nil)  // mixes in a Latin letter
        #expect(try SASLprep.prepare("\u{0627}\u{0031}\u{0628}") == "\u{0627}\u{0031}\u{0628}")
    }
}
