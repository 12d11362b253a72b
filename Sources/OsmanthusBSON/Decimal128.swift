/// A BSON Decimal128: an IEEE 754-2008 128-bit decimal with binary integer coefficient (BID),
/// stored as its two little-endian 64-bit halves.
///
/// Values are not normalised: `2.0` and `2.00` are different bit patterns (and different
/// strings) that compare equal with `BSONValue.compare`. `==` compares the bits.
/// String conversion follows the BSON Decimal128 specification (mongodb/specifications,
/// bson-decimal128): parsing rounds only when exact, clamps the exponent when it can, and
/// rejects anything inexact; formatting is the "to-scientific-string" of the General Decimal
/// Arithmetic specification.
public struct Decimal128: Sendable, Hashable, CustomStringConvertible {
    /// Bits 64–127: sign, combination field, exponent, high coefficient bits.
    public let high: UInt64
    /// Bits 0–63: the low coefficient bits.
    public let low: UInt64

    static let exponentBias = 6176
    static let minExponent = -6176
    static let maxExponent = 6111
    static let maxDigits = 34
    /// 10^34 - 1, the largest coefficient.
    static let maxCoefficient: UInt128 = {
        var power: UInt128 = 1
        for _ in 0..<maxDigits { power *= 10 }
        return power - 1
    }()
    private static let signBit: UInt64 = 1 << 63
    private static let infinityBits: UInt64 = 0x7800_0000_0000_0000
    private static let nanBits: UInt64 = 0x7C00_0000_0000_0000

    /// The value with these bits (`high` is bits 64–127 of the little-endian encoding).
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let nan = Decimal128(high: nanBits, low: 0)
    public static let infinity = Decimal128(high: infinityBits, low: 0)
    public static let negativeInfinity = Decimal128(high: infinityBits | signBit, low: 0)
    public static let zero = Decimal128(high: UInt64(exponentBias) << 49, low: 0)

    /// An integer, exactly (exponent 0).
    public init(_ value: Int64) {
        self.init(negative: value < 0, coefficient: UInt128(value.magnitude), exponent: 0)
    }

    /// Builds a finite value; the caller keeps the coefficient ≤ 10^34-1 and the exponent in
    /// -6176...6111.
    init(negative: Bool, coefficient: UInt128, exponent: Int) {
        let biased = UInt64(exponent + Decimal128.exponentBias)
        let coefficientHigh = UInt64(truncatingIfNeeded: coefficient >> 64)
        high = (negative ? Decimal128.signBit : 0) | biased << 49 | coefficientHigh
        low = UInt64(truncatingIfNeeded: coefficient)
    }

    /// Parses a decimal string (see the type's notes); throws `.invalidDecimal128`.
    public init(_ text: String) throws {
        self = try Decimal128Parser.parse(text)
    }

    /// The sign bit (also set on negative zeros and negative NaNs).
    public var isNegative: Bool { high & Decimal128.signBit != 0 }
    public var isNaN: Bool { high & 0x7C00_0000_0000_0000 == Decimal128.nanBits }
    public var isInfinite: Bool { high & 0x7C00_0000_0000_0000 == Decimal128.infinityBits }
    public var isFinite: Bool { high & 0x7800_0000_0000_0000 != Decimal128.infinityBits }

    /// For a finite value: its coefficient and exponent. Non-canonical encodings (a coefficient
    /// over 10^34-1, or the "large coefficient" form) read as a zero coefficient, as IEEE
    /// 754-2008 requires.
    var finiteParts: (coefficient: UInt128, exponent: Int) {
        if (high >> 61) & 3 == 3 {
            let biased = Int((high >> 47) & 0x3FFF)
            return (0, biased - Decimal128.exponentBias)
        }
        let biased = Int((high >> 49) & 0x3FFF)
        let coefficient = UInt128(high & 0x1_FFFF_FFFF_FFFF) << 64 | UInt128(low)
        return (coefficient > Decimal128.maxCoefficient ? 0 : coefficient, biased - Decimal128.exponentBias)
    }

    public var isZero: Bool { isFinite && finiteParts.coefficient == 0 }

    public var description: String {
        if isNaN { return "NaN" }
        if isInfinite { return isNegative ? "-Infinity" : "Infinity" }
        let (coefficient, exponent) = finiteParts
        let digits = Array(String(coefficient).utf8)
        var out = [UInt8]()
        out.reserveCapacity(digits.count + 8)
        if isNegative { out.append(UInt8(ascii: "-")) }
        let adjusted = exponent + digits.count - 1
        if exponent <= 0 && adjusted >= -6 {
            if exponent == 0 {
                out.append(contentsOf: digits)
            } else {
                let integerDigits = digits.count + exponent  // may be ≤ 0
                if integerDigits <= 0 {
                    out.append(contentsOf: "0.".utf8)
                    out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -integerDigits))
                    out.append(contentsOf: digits)
                } else {
                    out.append(contentsOf: digits[..<integerDigits])
                    out.append(UInt8(ascii: "."))
                    out.append(contentsOf: digits[integerDigits...])
                }
            }
        } else {
            out.append(digits[0])
            if digits.count > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "E"))
            out.append(UInt8(ascii: adjusted < 0 ? "-" : "+"))
            out.append(contentsOf: String(adjusted.magnitude).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value as an Int64 when it is an integer in Int64's range (`2.0E+3`, `-5.00`, `-0`),
    /// else nil. Lets an order-preserving key place such a decimal exactly where the equal int64
    /// is, rather than at its nearest double (2^53+1 would share 2^53's key).
    public var exactInt64: Int64? {
        guard isFinite else { return nil }
        var (coefficient, exponent) = finiteParts
        if coefficient == 0 { return 0 }
        while exponent < 0 {  // trailing zeros only: 1.50 is no integer
            let (q, r) = coefficient.quotientAndRemainder(dividingBy: 10)
            if r != 0 { return nil }
            coefficient = q
            exponent += 1
        }
        let limit: UInt128 = isNegative ? 1 << 63 : (1 << 63) - 1
        while exponent > 0 {  // at most 19 rounds before the limit is passed
            if coefficient > limit / 10 { return nil }
            coefficient *= 10
            exponent -= 1
        }
        if coefficient > limit { return nil }
        return isNegative ? Int64(truncatingIfNeeded: 0 &- coefficient) : Int64(coefficient)
    }

    /// The nearest Double (through the decimal string, which `Double.init` rounds correctly).
    public var doubleValue: Double {
        if isNaN { return .nan }
        return Double(description) ?? .nan
    }
}

extension Decimal128: Codable {
    /// Outside BSON (e.g. in JSON), a Decimal128 is its string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try Decimal128(container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
