import Foundation
import Osmanthus

/// SASLprep (RFC 4013, the stringprep profile of RFC 3454; RFC 7613's OpaqueString agrees on
/// the cases below) for SCRAM-SHA-256 user names and passwords: drivers SASLprep the password
/// before deriving the key, so the server must derive stored keys from the same string.
///
/// Steps: map (non-ASCII spaces → U+0020, "commonly mapped to nothing" removed), normalise
/// (NFKC), prohibit (controls, private use, non-characters, surrogates, characters that change
/// display, tags, and code points unassigned in this Swift's Unicode), bidi check (a string
/// with right-to-left letters has no left-to-right ones and starts and ends with one).
/// Bidi classes are approximated from general categories and script blocks (the standard
/// library does not expose them). Printable ASCII is returned unchanged without any of this.
enum SASLprep {
    static func prepare(_ string: String, field: String = "password") throws -> String {
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return string }
        var mapped = String.UnicodeScalarView()
        for scalar in string.unicodeScalars {
            if mappedToNothing(scalar.value) { continue }
            mapped.append(nonASCIISpace(scalar.value) ? " " : scalar)
        }
        let normalized = String(mapped).precomposedStringWithCompatibilityMapping
        var hasRandAL = false
        var hasL = false
        for scalar in normalized.unicodeScalars {
            if let reason = prohibition(scalar) {
                throw OsmanthusError(
                    .badValue,
                    "SASLprep: the \(field) contains a prohibited character U+\(hex(scalar.value)) (\(reason))")
            }
            if isRandAL(scalar) { hasRandAL = true } else if isL(scalar) { hasL = true }
        }
        if hasRandAL {
            let scalars = normalized.unicodeScalars
            guard !hasL, let first = scalars.first, let last = scalars.last, isRandAL(first), isRandAL(last) else {
                throw OsmanthusError(
                    .badValue,
                    "SASLprep: the \(field) mixes right-to-left and left-to-right text, or does not start and end with right-to-left characters")
            }
        }
        return normalized
    }

    /// RFC 3454 table C.1.2.
    static func nonASCIISpace(_ v: UInt32) -> Bool {
        v == 0x00A0 || v == 0x1680 || (0x2000...0x200B).contains(v) || v == 0x202F || v == 0x205F || v == 0x3000
    }

    /// RFC 3454 table B.1 (applied first, so U+200B is removed rather than made a space).
    static func mappedToNothing(_ v: UInt32) -> Bool {
        switch v {
        case 0x00AD, 0x034F, 0x1806, 0x180B...0x180D, 0x200B...0x200D, 0x2060, 0xFE00...0xFE0F, 0xFEFF: true
        default: false
        }
    }

    /// Why `scalar` may not appear after mapping and normalisation (RFC 4013 §2.3, 2.5), or nil.
    static func prohibition(_ scalar: Unicode.Scalar) -> String? {
        let v = scalar.value
        switch v {
        case 0x0000...0x001F, 0x007F: return "ASCII control character"
        case 0x0080...0x009F, 0x06DD, 0x070F, 0x180E, 0x200C, 0x200D, 0x2028, 0x2029, 0x2060...0x2063,
            0xFEFF, 0x1D173...0x1D17A:
            return "control character"
        case 0x206A...0x206F, 0x0340, 0x0341, 0x200E, 0x200F, 0x202A...0x202E:
            return "changes display properties or is deprecated"
        case 0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD: return "private use"
        case 0xFDD0...0xFDEF: return "non-character code point"
        case 0xFFF9...0xFFFD: return "inappropriate for plain text"
        case 0x2FF0...0x2FFB: return "inappropriate for canonical representation"
        case 0xE0001, 0xE0020...0xE007F: return "tagging character"
        default: break
        }
        if v & 0xFFFE == 0xFFFE { return "non-character code point" }
        if nonASCIISpace(v) { return "non-ASCII space" }
        if scalar.properties.generalCategory == .unassigned { return "unassigned code point" }
        return nil
    }

    /// Right-to-left (bidi R or AL, RFC 3454 table D.1): letters and marks-free punctuation of the
    /// Hebrew, Arabic, Syriac, Thaana, NKo and other right-to-left blocks.
    static func isRandAL(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        let rtlBlock = (0x0590...0x08FF).contains(v) || (0xFB1D...0xFDFF).contains(v) || (0xFE70...0xFEFC).contains(v)
            || (0x10800...0x10FFF).contains(v) || (0x1E800...0x1EFFF).contains(v)
        guard rtlBlock else { return false }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark, .decimalNumber, .format: return false
        default: return true
        }
    }

    /// Left-to-right (bidi L, RFC 3454 table D.2), approximated as the letters outside the
    /// right-to-left blocks.
    static func isL(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .spacingMark:
            return !isRandAL(scalar)
        default:
            return false
        }
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
