/// Decimal128 from a string, as the BSON Decimal128 specification's "From String
/// Representation" defines it:
///
///     numeric-string ::= [sign] (decimal-part [exponent-part] | infinity) | [sign] nan
///     decimal-part   ::= digits '.' [digits] | ['.'] digits
///     exponent-part  ::= ('e' | 'E') [sign] digits
///     infinity       ::= 'Infinity' | 'Inf'   (any case)     nan ::= 'NaN' (any case)
///
/// The value must be stored exactly: trailing zeros may be dropped (raising the exponent) and
/// zeros may be appended (clamping a too-large exponent), but a digit that would be lost is an
/// error, as is an exponent that cannot be reached.
enum Decimal128Parser {
    static func parse(_ text: String) throws -> Decimal128 {
        var utf8 = text
        return try utf8.withUTF8 { try parse(bytes: $0, original: text) }
    }

    private static func fail(_ text: String, _ why: String) -> BSONError {
        BSONError(.invalidDecimal128, "\(why): \"\(text.prefix(64))\"")
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>, original: String) throws -> Decimal128 {
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        let rest = UnsafeBufferPointer(rebasing: bytes[i...])
        if let first = rest.first, first | 0x20 == UInt8(ascii: "i") || first | 0x20 == UInt8(ascii: "n") {
            let word = String(decoding: rest, as: UTF8.self).lowercased()
            if word == "inf" || word == "infinity" {
                return negative ? .negativeInfinity : .infinity
            }
            if word == "nan" {
                return negative ? Decimal128(high: Decimal128.nan.high | 1 << 63, low: 0) : .nan
            }
            throw fail(original, "not a number")
        }

        // Significant digits (leading zeros skipped), and how many came after the point.
        var digits = [UInt8]()
        var sawDigit = false
        var sawPoint = false
        var fractionDigits = 0
        while i < bytes.count {
            let c = bytes[i]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                sawDigit = true
                if sawPoint { fractionDigits += 1 }
                if !(digits.isEmpty && c == UInt8(ascii: "0")) { digits.append(c &- UInt8(ascii: "0")) }
            } else if c == UInt8(ascii: ".") {
                if sawPoint { throw fail(original, "two decimal points") }
                sawPoint = true
            } else {
                break
            }
            i += 1
        }
        guard sawDigit else { throw fail(original, "no digits") }

        // The exponent part, saturated far outside the reachable range.
        let saturation = 1 << 40
        var exponent = 0
        if i < bytes.count {
            guard bytes[i] | 0x20 == UInt8(ascii: "e") else { throw fail(original, "unexpected character") }
            i += 1
            var exponentNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var sawExponentDigit = false
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                exponent = min(exponent * 10 + Int(bytes[i] - UInt8(ascii: "0")), saturation)
                sawExponentDigit = true
                i += 1
            }
            guard sawExponentDigit, i == bytes.count else { throw fail(original, "bad exponent") }
            if exponentNegative { exponent = -exponent }
        }
        exponent -= fractionDigits

        if digits.isEmpty {
            // Zero: any exponent clamps without changing the value.
            let clamped = min(max(exponent, Decimal128.minExponent), Decimal128.maxExponent)
            return Decimal128(negative: negative, coefficient: 0, exponent: clamped)
        }

        // Drop trailing digits while there are too many or the exponent is too small; each
        // dropped digit must be a zero.
        let drop = max(0, digits.count - Decimal128.maxDigits, Decimal128.minExponent - exponent)
        if drop > 0 {
            guard drop < digits.count, digits[(digits.count - drop)...].allSatisfy({ $0 == 0 }) else {
                throw fail(original, "cannot be stored exactly (inexact rounding or underflow)")
            }
            digits.removeLast(drop)
            exponent += drop
        }
        // Clamp a too-large exponent by appending zeros to the coefficient.
        if exponent > Decimal128.maxExponent {
            let add = exponent - Decimal128.maxExponent
            guard digits.count + add <= Decimal128.maxDigits else { throw fail(original, "overflow") }
            digits.append(contentsOf: repeatElement(0, count: add))
            exponent = Decimal128.maxExponent
        }
        var coefficient: UInt128 = 0
        for digit in digits { coefficient = coefficient * 10 + UInt128(digit) }
        return Decimal128(negative: negative, coefficient: coefficient, exponent: exponent)
    }
}
