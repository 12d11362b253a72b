import OsmanthusBSON

/// Conversions: `$toString`, `$toInt`, `$toLong`, `$toDouble`, `$toDate`, `$toBool` (`$type`
/// is in the core set). Null and missing convert to null; an impossible conversion is
/// ConversionFailure (241).
extension ExpressionOperator {
    static let types: [ExpressionOperator] = [
        conversion("$toString") { .string(try convertToString($0)) },
        conversion("$toInt") { value in
            let n = try convertToInteger(value, target: "int")
            guard let small = Int32(exactly: n) else {
                throw OsmanthusError(.conversionFailure, "Conversion would overflow target type in $convert with no onError value: \(n)")
            }
            return .int32(small)
        },
        conversion("$toLong") { .int64(try convertToInteger($0, target: "long")) },
        conversion("$toDouble") { value in
            switch value {
            case .double: return value
            case .int32(let x): return .double(Double(x))
            case .int64(let x): return .double(Double(x))
            case .decimal128(let x): return .double(x.doubleValue)
            case .bool(let flag): return .double(flag ? 1 : 0)
            case .datetime(let ms): return .double(Double(ms))
            case .string(let text):
                guard let x = Double(text.trimmingSpaces), !text.isEmpty else { throw failure(value, "double") }
                return .double(x)
            default: throw failure(value, "double")
            }
        },
        conversion("$toDate") { value in
            switch value {
            case .datetime: return value
            case .int64(let ms): return .datetime(ms)
            case .double(let x):
                guard let ms = Int64(exactly: x.rounded(.towardZero)) else { throw failure(value, "date") }
                return .datetime(ms)
            case .decimal128(let x):
                guard let ms = Int64(exactly: x.doubleValue.rounded(.towardZero)) else { throw failure(value, "date") }
                return .datetime(ms)
            case .objectId(let id): return .datetime(Int64(id.seconds) * 1000)
            case .timestamp(_, let seconds): return .datetime(Int64(seconds) * 1000)
            case .string(let text):
                guard let ms = CivilTime.parse(text) else {
                    throw OsmanthusError(.conversionFailure, "Error parsing date string '\(text)'")
                }
                return .datetime(ms)
            default: throw failure(value, "date")
            }
        },
        conversion("$toBool") { value in
            switch value {
            case .bool: return value
            case let number where number.isNumber: return .bool(Expression.isTruthy(number))
            default: return .bool(true)
            }
        },
    ]

    private static func conversion(_ name: String, _ convert: @escaping @Sendable (BSONValue) throws -> BSONValue) -> ExpressionOperator {
        ExpressionOperator(name, arity: 1...1) { args, context in
            let value = try args[0].evaluate(context)
            guard let value, !isNullish(value) else { return .null }
            return try convert(value)
        }
    }

    private static func failure(_ value: BSONValue, _ target: String) -> OsmanthusError {
        OsmanthusError(
            .conversionFailure, "Unsupported conversion from \(value.type.name) to \(target) in $convert with no onError value")
    }

    /// MongoDB's string form of a value for `$toString` and `$concat`-like coercions.
    static func convertToString(_ value: BSONValue) throws -> String {
        switch value {
        case .string(let text): return text
        case .int32(let x): return String(x)
        case .int64(let x): return String(x)
        case .double(let x): return formatDouble(x)
        case .decimal128(let x): return x.description
        case .bool(let flag): return flag ? "true" : "false"
        case .objectId(let id): return id.hex
        case .datetime(let ms): return CivilTime.format(ms, "%Y-%m-%dT%H:%M:%S.%LZ")
        default: throw failure(value, "string")
        }
    }

    static func formatDouble(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-Infinity" : "Infinity" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    private static func convertToInteger(_ value: BSONValue, target: String) throws -> Int64 {
        switch value {
        case .int32(let x): return Int64(x)
        case .int64(let x): return x
        case .bool(let flag): return flag ? 1 : 0
        case .double, .decimal128:
            guard let x = value.numericDouble, x.isFinite, let n = Int64(exactly: x.rounded(.towardZero)) else {
                throw OsmanthusError(.conversionFailure, "Conversion would overflow target type in $convert with no onError value: \(value)")
            }
            return n
        case .datetime(let ms) where target == "long": return ms
        case .string(let text):
            guard let n = Int64(text) else {
                throw OsmanthusError(.conversionFailure, "Failed to parse number '\(text)' in $convert with no onError value")
            }
            return n
        default: throw failure(value, target)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = unicodeScalars[...]
        while let first = scalars.first, first == " " { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " { scalars = scalars.dropLast() }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
