/// Exact comparison of BSON numbers of different types.
///
/// int32/int64 and double compare without converting the integer to a double (which would
/// round above 2^53). Anything involving a decimal128 is compared through an exact decimal
/// expansion of both sides (`ExactDecimal`): a double is m·2^e, which is exactly m·5^-e·10^e,
/// so its decimal digits are finite.
enum NumericComparison {
    static func compare(_ a: BSONValue, _ b: BSONValue) -> Int {
        switch (a, b) {
        case (.int32(let x), .int32(let y)): return order(Int64(x), Int64(y))
        case (.int32(let x), .int64(let y)): return order(Int64(x), y)
        case (.int64(let x), .int32(let y)): return order(x, Int64(y))
        case (.int64(let x), .int64(let y)): return order(x, y)
        case (.double(let x), .double(let y)): return compareDoubles(x, y)
        case (.int32(let x), .double(let y)): return compareInteger(Int64(x), toDouble: y)
        case (.int64(let x), .double(let y)): return compareInteger(x, toDouble: y)
        case (.double(let x), .int32(let y)): return -compareInteger(Int64(y), toDouble: x)
        case (.double(let x), .int64(let y)): return -compareInteger(y, toDouble: x)
        default:
            guard let x = ExactDecimal(a), let y = ExactDecimal(b) else { return 0 }
            return ExactDecimal.compare(x, y)
        }
    }

    @inline(__always)
    static func order<T: Comparable>(_ x: T, _ y: T) -> Int { x == y ? 0 : (x < y ? -1 : 1) }

    /// NaN is below every number and equal to NaN; -0 equals 0.
    static func compareDoubles(_ x: Double, _ y: Double) -> Int {
        if x.isNaN { return y.isNaN ? 0 : -1 }
        if y.isNaN { return 1 }
        return x < y ? -1 : (x > y ? 1 : 0)
    }

    /// Compares an integer with a double exactly.
    static func compareInteger(_ x: Int64, toDouble y: Double) -> Int {
        if y.isNaN { return 1 }
        if y >= 9_223_372_036_854_775_808.0 { return -1 }  // 2^63: above every Int64
        if y < -9_223_372_036_854_775_808.0 { return 1 }
        let whole = y.rounded(.towardZero)  // now exactly representable as Int64
        let integer = Int64(whole)
        if x != integer { return x < integer ? -1 : 1 }
        return y > whole ? -1 : (y < whole ? 1 : 0)
    }
}

extension Decimal128 {
    /// Compares two decimals by value (NaN lowest); nil-free, for internal use.
    static func compareExactly(_ a: Decimal128, _ b: Decimal128) -> Int {
        NumericComparison.compare(.decimal128(a), .decimal128(b))
    }
}

/// A number written exactly in decimal: NaN, ±infinity, or ±digits × 10^exponent.
struct ExactDecimal {
    enum Kind { case nan, negativeInfinity, finite, positiveInfinity }
    var kind: Kind
    var negative = false
    /// Decimal digits (values 0–9), no leading zeros; empty for zero.
    var digits: [UInt8] = []
    var exponent = 0

    init?(_ value: BSONValue) {
        switch value {
        case .int32(let v): self.init(integer: Int64(v))
        case .int64(let v): self.init(integer: v)
        case .double(let v): self.init(double: v)
        case .decimal128(let v): self.init(decimal: v)
        default: return nil
        }
    }

    init(integer: Int64) {
        kind = .finite
        negative = integer < 0
        digits = ExactDecimal.digits(of: String(integer.magnitude))
    }

    init(decimal: Decimal128) {
        if decimal.isNaN {
            kind = .nan
        } else if decimal.isInfinite {
            kind = decimal.isNegative ? .negativeInfinity : .positiveInfinity
        } else {
            kind = .finite
            let (coefficient, exponent) = decimal.finiteParts
            negative = decimal.isNegative
            digits = coefficient == 0 ? [] : ExactDecimal.digits(of: String(coefficient))
            self.exponent = exponent
        }
    }

    init(double: Double) {
        if double.isNaN {
            kind = .nan
            return
        }
        if double.isInfinite {
            kind = double < 0 ? .negativeInfinity : .positiveInfinity
            return
        }
        kind = .finite
        negative = double.sign == .minus
        guard double != 0 else { return }
        // double = significand · 2^binaryExponent, with an integer significand.
        var significand = double.significandBitPattern
        var binaryExponent: Int
        if double.isSubnormal {
            binaryExponent = -1074
        } else {
            significand |= 1 << 52
            binaryExponent = Int(double.exponent) - 52
        }
        let zeros = significand.trailingZeroBitCount
        significand >>= UInt64(zeros)
        binaryExponent += zeros
        var number = BigUnsigned(significand)
        if binaryExponent >= 0 {
            number.shiftLeft(by: binaryExponent)
        } else {
            // m · 2^-k = m · 5^k · 10^-k
            number.multiply(byPowerOfFive: -binaryExponent)
            exponent = binaryExponent
        }
        digits = ExactDecimal.digits(of: number.decimalString)
    }

    private static func digits(of text: String) -> [UInt8] {
        let digits = text.utf8.map { $0 &- UInt8(ascii: "0") }
        return digits == [0] ? [] : digits
    }

    /// Orders two exact numbers: NaN < -inf < finite < +inf; zeros of either sign are equal.
    static func compare(_ x: ExactDecimal, _ y: ExactDecimal) -> Int {
        func rank(_ k: Kind) -> Int {
            switch k {
            case .nan: 0
            case .negativeInfinity: 1
            case .finite: 2
            case .positiveInfinity: 3
            }
        }
        if x.kind != .finite || y.kind != .finite {
            return NumericComparison.order(rank(x.kind), rank(y.kind))
        }
        let signX = x.digits.isEmpty ? 0 : (x.negative ? -1 : 1)
        let signY = y.digits.isEmpty ? 0 : (y.negative ? -1 : 1)
        if signX != signY { return signX < signY ? -1 : 1 }
        if signX == 0 { return 0 }
        let magnitude = compareMagnitudes(x, y)
        return signX > 0 ? magnitude : -magnitude
    }

    private static func compareMagnitudes(_ x: ExactDecimal, _ y: ExactDecimal) -> Int {
        let adjustedX = x.exponent + x.digits.count
        let adjustedY = y.exponent + y.digits.count
        if adjustedX != adjustedY { return adjustedX < adjustedY ? -1 : 1 }
        let length = max(x.digits.count, y.digits.count)
        for i in 0..<length {
            let a = i < x.digits.count ? x.digits[i] : 0
            let b = i < y.digits.count ? y.digits[i] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }
}

/// Just enough arbitrary-precision arithmetic to write a double's exact decimal expansion.
struct BigUnsigned {
    /// Little-endian 32-bit limbs.
    private var limbs: [UInt32]

    init(_ value: UInt64) {
        limbs = [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
        trim()
    }

    private mutating func trim() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }

    mutating func multiply(by factor: UInt32) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let product = UInt64(limbs[i]) * UInt64(factor) + carry
            limbs[i] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 { limbs.append(UInt32(carry)) }
    }

    mutating func multiply(byPowerOfFive power: Int) {
        var remaining = power
        while remaining >= 13 {
            multiply(by: 1_220_703_125)  // 5^13, the largest power of five in 32 bits
            remaining -= 13
        }
        var last: UInt32 = 1
        for _ in 0..<remaining { last *= 5 }
        multiply(by: last)
    }

    mutating func shiftLeft(by bits: Int) {
        let whole = bits / 32
        let part = UInt32(bits % 32)
        if part != 0 {
            var carry: UInt32 = 0
            for i in limbs.indices {
                let limb = limbs[i]
                limbs[i] = limb << part | carry
                carry = limb >> (32 - part)
            }
            if carry != 0 { limbs.append(carry) }
        }
        limbs.insert(contentsOf: repeatElement(0, count: whole), at: 0)
    }

    /// Divides by `divisor` in place; returns the remainder.
    private mutating func divide(by divisor: UInt32) -> UInt32 {
        var remainder: UInt64 = 0
        for i in limbs.indices.reversed() {
            let current = remainder << 32 | UInt64(limbs[i])
            limbs[i] = UInt32(current / UInt64(divisor))
            remainder = current % UInt64(divisor)
        }
        trim()
        return UInt32(remainder)
    }

    var decimalString: String {
        var copy = self
        var chunks = [UInt32]()
        while !copy.limbs.isEmpty { chunks.append(copy.divide(by: 1_000_000_000)) }
        guard let top = chunks.popLast() else { return "0" }
        var text = String(top)
        for chunk in chunks.reversed() {
            let part = String(chunk)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text
    }
}
