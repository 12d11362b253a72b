import OsmanthusBSON

/// Arithmetic on BSON numbers with MongoDB's type promotion (the server's `SafeNum` for
/// `$inc`/`$mul`, and the arithmetic expressions):
///
/// - int32 with int32 stays int32 when the result fits, else becomes int64;
/// - with an int64 (and no double or decimal) the result is int64, or a double on overflow;
/// - with a double (and no decimal), double;
/// - with a decimal128, decimal128 (doubles converted at 15 significant digits).
enum BSONArithmetic {
    enum Operation { case add, subtract, multiply }

    /// The result, or nil if either operand is not a number.
    static func apply(_ operation: Operation, _ a: BSONValue, _ b: BSONValue) -> BSONValue? {
        guard a.isNumber, b.isNumber else { return nil }
        switch (a, b) {
        case (.decimal128, _), (_, .decimal128):
            guard let x = decimal(a), let y = decimal(b) else { return nil }
            switch operation {
            case .add: return .decimal128((x + y).decimal128)
            case .subtract: return .decimal128((x + -y).decimal128)
            case .multiply: return .decimal128((x * y).decimal128)
            }
        case (.double, _), (_, .double):
            guard let x = double(a), let y = double(b) else { return nil }
            switch operation {
            case .add: return .double(x + y)
            case .subtract: return .double(x - y)
            case .multiply: return .double(x * y)
            }
        case (.int32(let x), .int32(let y)):
            let result: Int64
            switch operation {
            case .add: result = Int64(x) + Int64(y)
            case .subtract: result = Int64(x) - Int64(y)
            case .multiply: result = Int64(x) * Int64(y)
            }
            return Int32(exactly: result).map { .int32($0) } ?? .int64(result)
        default:
            guard let x = a.exactInt64, let y = b.exactInt64 else { return nil }
            let (result, overflow): (Int64, Bool)
            switch operation {
            case .add: (result, overflow) = x.addingReportingOverflow(y)
            case .subtract: (result, overflow) = x.subtractingReportingOverflow(y)
            case .multiply: (result, overflow) = x.multipliedReportingOverflow(by: y)
            }
            guard overflow else { return .int64(result) }
            switch operation {
            case .add: return .double(Double(x) + Double(y))
            case .subtract: return .double(Double(x) - Double(y))
            case .multiply: return .double(Double(x) * Double(y))
            }
        }
    }

    /// `$divide`: a double unless a decimal is involved. The caller rejects a zero divisor.
    static func divide(_ a: BSONValue, _ b: BSONValue) -> BSONValue? {
        guard a.isNumber, b.isNumber else { return nil }
        if case .decimal128 = a, let x = decimal(a), let y = decimal(b) { return .decimal128((x / y).decimal128) }
        if case .decimal128 = b, let x = decimal(a), let y = decimal(b) { return .decimal128((x / y).decimal128) }
        guard let x = double(a), let y = double(b) else { return nil }
        return .double(x / y)
    }

    /// `$mod`: the remainder of truncated division, typed like the other operations. The
    /// caller rejects a zero divisor.
    static func remainder(_ a: BSONValue, _ b: BSONValue) -> BSONValue? {
        guard a.isNumber, b.isNumber else { return nil }
        switch (a, b) {
        case (.decimal128, _), (_, .decimal128):
            guard let x = decimal(a), let y = decimal(b) else { return nil }
            return .decimal128((x % y).decimal128)
        case (.double, _), (_, .double):
            guard let x = double(a), let y = double(b) else { return nil }
            return .double(x.truncatingRemainder(dividingBy: y))
        case (.int32(let x), .int32(let y)):
            return .int32(x.remainderReportingOverflow(dividingBy: y).overflow ? 0 : x % y)
        default:
            guard let x = a.exactInt64, let y = b.exactInt64 else { return nil }
            return .int64(x.remainderReportingOverflow(dividingBy: y).overflow ? 0 : x % y)
        }
    }

    /// Whether a number is zero (of any type).
    static func isZero(_ value: BSONValue) -> Bool {
        switch value {
        case .int32(let x): x == 0
        case .int64(let x): x == 0
        case .double(let x): x == 0
        case .decimal128(let x): x.isZero
        default: false
        }
    }

    /// Zero of the same numeric type (what `$mul` stores in a missing field).
    static func zero(like value: BSONValue) -> BSONValue {
        switch value {
        case .int64: .int64(0)
        case .double: .double(0)
        case .decimal128: .decimal128(.zero)
        default: .int32(0)
        }
    }

    static func double(_ value: BSONValue) -> Double? {
        switch value {
        case .int32(let x): Double(x)
        case .int64(let x): Double(x)
        case .double(let x): x
        case .decimal128(let x): x.doubleValue
        default: nil
        }
    }

    static func decimal(_ value: BSONValue) -> DecimalNumber? {
        switch value {
        case .int32(let x): DecimalNumber(Int64(x))
        case .int64(let x): DecimalNumber(x)
        case .double(let x): DecimalNumber(x)
        case .decimal128(let x): DecimalNumber(x)
        default: nil
        }
    }
}
