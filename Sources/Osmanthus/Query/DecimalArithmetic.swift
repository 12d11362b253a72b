import OsmanthusBSON

/// Decimal128 arithmetic for `$inc`, `$mul` and the arithmetic expressions: exact on decimal
/// digit strings, then rounded to 34 significant digits, half to even (IEEE 754-2008's
/// decimal128, which MongoDB uses). Slow and simple; decimals are rare in updates.
struct DecimalNumber {
    enum Kind { case finite, nan, infinity }
    var kind: Kind = .finite
    var negative = false
    /// Most significant first, no leading zeros; empty for zero.
    var digits: [UInt8] = []
    var exponent = 0

    static let precision = 34
    static let minExponent = -6176
    static let maxExponent = 6111

    init(kind: Kind, negative: Bool = false) {
        self.kind = kind
        self.negative = negative
    }

    init(negative: Bool, digits: [UInt8], exponent: Int) {
        self.negative = negative
        self.digits = DecimalNumber.trimmed(digits)
        self.exponent = exponent
    }

    init(_ value: Decimal128) {
        if value.isNaN {
            self.init(kind: .nan)
        } else if value.isInfinite {
            self.init(kind: .infinity, negative: value.isNegative)
        } else {
            self.init(text: value.description)
        }
    }

    init(_ value: Int64) {
        self.init(negative: value < 0, digits: DecimalNumber.digits(String(value.magnitude)), exponent: 0)
    }

    /// A double as MongoDB converts it: rounded to 15 significant digits, trailing zeros kept.
    init(_ value: Double) {
        guard value.isFinite else {
            self.init(kind: value.isNaN ? .nan : .infinity, negative: value < 0)
            return
        }
        self.init(text: "\(value.magnitude)")
        negative = value.sign == .minus
        guard !digits.isEmpty else {
            exponent = 0
            return
        }
        roundTo(significantDigits: 15)
        let missing = 15 - digits.count
        if missing > 0 {
            digits += repeatElement(0, count: missing)
            exponent -= missing
        }
    }

    /// Parses "123", "-1.5", "1.2E+5", "1e-05" (Decimal128's and Double's text forms).
    private init(text: String) {
        var mantissa = Substring(text)
        var exponent = 0
        if mantissa.hasPrefix("-") {
            negative = true
            mantissa = mantissa.dropFirst()
        }
        if let e = mantissa.firstIndex(where: { $0 == "E" || $0 == "e" }) {
            exponent = Int(mantissa[mantissa.index(after: e)...]) ?? 0  // Int accepts a leading "+"
            mantissa = mantissa[..<e]
        }
        if let point = mantissa.firstIndex(of: ".") {
            exponent -= mantissa.distance(from: point, to: mantissa.endIndex) - 1
            mantissa.remove(at: point)
        }
        digits = DecimalNumber.trimmed(DecimalNumber.digits(String(mantissa)))
        self.exponent = exponent
    }

    var isZero: Bool { kind == .finite && digits.isEmpty }

    /// The nearest Decimal128 (34 digits, exponent clamped into range).
    var decimal128: Decimal128 {
        switch kind {
        case .nan: return .nan
        case .infinity: return negative ? .negativeInfinity : .infinity
        case .finite: break
        }
        var value = self
        value.roundTo(significantDigits: DecimalNumber.precision)
        if value.exponent < DecimalNumber.minExponent {
            value.dropDigits(DecimalNumber.minExponent - value.exponent, sticky: false)
        }
        if value.exponent > DecimalNumber.maxExponent {
            let pad = value.exponent - DecimalNumber.maxExponent
            guard value.digits.isEmpty || value.digits.count + pad <= DecimalNumber.precision else {
                return value.negative ? .negativeInfinity : .infinity
            }
            if !value.digits.isEmpty { value.digits += repeatElement(0, count: pad) }
            value.exponent = DecimalNumber.maxExponent
        }
        let coefficient = value.digits.isEmpty ? "0" : String(decoding: value.digits.map { $0 + 48 }, as: UTF8.self)
        return (try? Decimal128("\(value.negative ? "-" : "")\(coefficient)E\(value.exponent)")) ?? .nan
    }

    // MARK: Operations

    static func + (a: DecimalNumber, b: DecimalNumber) -> DecimalNumber {
        if a.kind == .nan || b.kind == .nan { return DecimalNumber(kind: .nan) }
        if a.kind == .infinity || b.kind == .infinity {
            if a.kind == .infinity, b.kind == .infinity, a.negative != b.negative { return DecimalNumber(kind: .nan) }
            return a.kind == .infinity ? a : b
        }
        let exponent = min(a.exponent, b.exponent)
        let x = a.digits + repeatElement(0, count: a.digits.isEmpty ? 0 : a.exponent - exponent)
        let y = b.digits + repeatElement(0, count: b.digits.isEmpty ? 0 : b.exponent - exponent)
        if a.negative == b.negative {
            return DecimalNumber(negative: a.negative, digits: add(x, y), exponent: exponent)
        }
        let order = compareMagnitude(x, y)
        if order == 0 { return DecimalNumber(negative: false, digits: [], exponent: exponent) }
        return order > 0
            ? DecimalNumber(negative: a.negative, digits: subtract(x, y), exponent: exponent)
            : DecimalNumber(negative: b.negative, digits: subtract(y, x), exponent: exponent)
    }

    static prefix func - (a: DecimalNumber) -> DecimalNumber {
        var result = a
        result.negative.toggle()
        return result
    }

    static func * (a: DecimalNumber, b: DecimalNumber) -> DecimalNumber {
        let negative = a.negative != b.negative
        if a.kind == .nan || b.kind == .nan { return DecimalNumber(kind: .nan) }
        if a.kind == .infinity || b.kind == .infinity {
            return a.isZero || b.isZero ? DecimalNumber(kind: .nan) : DecimalNumber(kind: .infinity, negative: negative)
        }
        return DecimalNumber(negative: negative, digits: multiply(a.digits, b.digits), exponent: a.exponent + b.exponent)
    }

    /// The quotient rounded to 34 digits; exact quotients use the exponent closest to
    /// a.exponent - b.exponent, as IEEE's preferred exponent rule asks.
    static func / (a: DecimalNumber, b: DecimalNumber) -> DecimalNumber {
        let negative = a.negative != b.negative
        if a.kind == .nan || b.kind == .nan { return DecimalNumber(kind: .nan) }
        if a.kind == .infinity {
            return b.kind == .infinity ? DecimalNumber(kind: .nan) : DecimalNumber(kind: .infinity, negative: negative)
        }
        if b.kind == .infinity { return DecimalNumber(negative: negative, digits: [], exponent: 0) }
        if b.isZero { return a.isZero ? DecimalNumber(kind: .nan) : DecimalNumber(kind: .infinity, negative: negative) }
        let ideal = a.exponent - b.exponent
        if a.isZero { return DecimalNumber(negative: negative, digits: [], exponent: ideal) }
        let shift = max(0, precision + 1 + b.digits.count - a.digits.count)
        let (quotient, remainder) = divide(a.digits + repeatElement(0, count: shift), by: b.digits)
        var result = DecimalNumber(negative: negative, digits: quotient, exponent: ideal - shift)
        if remainder.isEmpty {
            while result.exponent < ideal, let last = result.digits.last, last == 0 {
                result.digits.removeLast()
                result.exponent += 1
            }
        } else {
            result.roundTo(significantDigits: precision, sticky: true)
        }
        return result
    }

    /// The remainder of truncated division, with the dividend's sign (`$mod`).
    static func % (a: DecimalNumber, b: DecimalNumber) -> DecimalNumber {
        if a.kind != .finite || b.kind != .finite || b.isZero {
            return a.kind == .finite && b.kind == .infinity ? a : DecimalNumber(kind: .nan)
        }
        let exponent = min(a.exponent, b.exponent)
        let x = a.digits + repeatElement(0, count: a.digits.isEmpty ? 0 : a.exponent - exponent)
        let y = b.digits + repeatElement(0, count: b.exponent - exponent)
        return DecimalNumber(negative: a.negative, digits: divide(x, by: y).remainder, exponent: exponent)
    }

    // MARK: Rounding

    /// Rounds half to even to at most `count` significant digits; `sticky` says that nonzero
    /// digits were already dropped beyond the last one held.
    mutating func roundTo(significantDigits count: Int, sticky: Bool = false) {
        if digits.count > count { dropDigits(digits.count - count, sticky: sticky) }
    }

    /// Drops the `count` lowest digits, rounding half to even.
    mutating func dropDigits(_ count: Int, sticky: Bool) {
        guard count > 0 else { return }
        exponent += count
        guard count <= digits.count else {
            digits = []
            return
        }
        let dropped = digits[(digits.count - count)...]
        digits.removeLast(count)
        let first = dropped.first ?? 0
        let restNonZero = sticky || dropped.dropFirst().contains { $0 != 0 }
        let roundUp = first > 5 || (first == 5 && (restNonZero || (digits.last ?? 0) % 2 == 1))
        if roundUp {
            digits = DecimalNumber.add(digits, [1])
            if digits.count > DecimalNumber.precision {
                digits.removeLast()
                exponent += 1
            }
        }
        digits = DecimalNumber.trimmed(digits)
    }

    // MARK: Digit-string arithmetic (most significant digit first)

    private static func digits(_ text: String) -> [UInt8] {
        text.utf8.compactMap { $0 >= 48 && $0 <= 57 ? $0 - 48 : nil }
    }

    private static func trimmed(_ digits: [UInt8]) -> [UInt8] {
        guard let first = digits.firstIndex(where: { $0 != 0 }) else { return [] }
        return Array(digits[first...])
    }

    private static func compareMagnitude(_ x: [UInt8], _ y: [UInt8]) -> Int {
        let x = trimmed(x)
        let y = trimmed(y)
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        for (a, b) in zip(x, y) where a != b { return a < b ? -1 : 1 }
        return 0
    }

    private static func add(_ x: [UInt8], _ y: [UInt8]) -> [UInt8] {
        var result = [UInt8]()
        var carry: UInt8 = 0
        var i = x.count - 1
        var j = y.count - 1
        while i >= 0 || j >= 0 || carry > 0 {
            let sum = (i >= 0 ? x[i] : 0) + (j >= 0 ? y[j] : 0) + carry
            result.append(sum % 10)
            carry = sum / 10
            i -= 1
            j -= 1
        }
        return trimmed(result.reversed())
    }

    /// x - y for x ≥ y.
    private static func subtract(_ x: [UInt8], _ y: [UInt8]) -> [UInt8] {
        var result = [UInt8]()
        var borrow = 0
        var j = y.count - 1
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            var difference = Int(x[i]) - borrow - (j >= 0 ? Int(y[j]) : 0)
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 10 }
            result.append(UInt8(difference))
            j -= 1
        }
        return trimmed(result.reversed())
    }

    private static func multiply(_ x: [UInt8], _ y: [UInt8]) -> [UInt8] {
        guard !x.isEmpty, !y.isEmpty else { return [] }
        var columns = [Int](repeating: 0, count: x.count + y.count)
        for (i, a) in x.reversed().enumerated() {
            for (j, b) in y.reversed().enumerated() { columns[i + j] += Int(a) * Int(b) }
        }
        var carry = 0
        for k in columns.indices {
            let total = columns[k] + carry
            columns[k] = total % 10
            carry = total / 10
        }
        return trimmed(columns.reversed().map { UInt8($0) })
    }

    /// Long division of digit strings; `divisor` is not zero.
    private static func divide(_ dividend: [UInt8], by divisor: [UInt8]) -> (quotient: [UInt8], remainder: [UInt8]) {
        var quotient = [UInt8]()
        var remainder = [UInt8]()
        for digit in dividend {
            remainder = trimmed(remainder + [digit])
            var count: UInt8 = 0
            while compareMagnitude(remainder, divisor) >= 0 {
                remainder = subtract(remainder, divisor)
                count += 1
            }
            quotient.append(count)
        }
        return (trimmed(quotient), trimmed(remainder))
    }
}
