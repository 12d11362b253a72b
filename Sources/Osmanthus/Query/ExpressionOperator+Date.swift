import OsmanthusBSON

/// Date operators in UTC: `$year $month $dayOfMonth $hour $minute $second $millisecond
/// $dayOfWeek $dayOfYear` and `$dateToString`. A timezone other than UTC is not supported yet
/// (NotImplemented), so results never silently use the wrong zone.
extension ExpressionOperator {
    static let dates: [ExpressionOperator] = [
        datePart("$year") { $0.year },
        datePart("$month") { $0.month },
        datePart("$dayOfMonth") { $0.day },
        datePart("$hour") { $0.hour },
        datePart("$minute") { $0.minute },
        datePart("$second") { $0.second },
        datePart("$millisecond") { $0.millisecond },
        datePart("$dayOfWeek") { $0.dayOfWeek },
        datePart("$dayOfYear") { $0.dayOfYear },
        // Arguments: [date, format?, onNull?] with absent ones as missing literals.
        ExpressionOperator("$dateToString", parseArguments: { argument in
            let fields = try namedArguments(
                "$dateToString", argument, allowed: ["date", "format", "timezone", "onNull"], required: ["date"])
            try checkTimezone("$dateToString", fields["timezone"])
            if case .string(let format)? = fields["format"] {
                do { _ = try CivilTime.formatChecked(0, format) } catch let error as CivilTime.UnknownSpecifier {
                    throw OsmanthusError(.location(18536), "Invalid format character '\(error.specifier)' in format string")
                }
            }
            return [
                try Expression.parse(fields["date"] ?? .null),
                try fields["format"].map(Expression.parse) ?? .literal(.string("%Y-%m-%dT%H:%M:%S.%LZ")),
                try fields["onNull"].map(Expression.parse) ?? .literal(.null),
            ]
        }) { args, context in
            let value = try args[0].evaluate(context)
            if isNullish(value) { return try args[2].evaluate(context) }
            let format = try args[1].evaluate(context)
            if isNullish(format) { return .null }
            guard case .string(let text)? = format else {
                throw OsmanthusError(.location(18533), "$dateToString requires that 'format' be a string, found: \(typeName(format))")
            }
            let ms = try milliseconds("$dateToString", value)
            do { return .string(try CivilTime.formatChecked(ms, text)) } catch let error as CivilTime.UnknownSpecifier {
                throw OsmanthusError(.location(18536), "Invalid format character '\(error.specifier)' in format string")
            }
        },
    ]

    /// A date part operator: `{$year: <date>}`, `{$year: [<date>]}` or
    /// `{$year: {date: <date>, timezone: "UTC"}}`; null for a null date.
    private static func datePart(_ name: String, _ part: @escaping @Sendable (CivilTime) -> Int64) -> ExpressionOperator {
        ExpressionOperator(name, parseArguments: { argument in
            if case .document(let fields) = argument, fields.keys.first.map({ !$0.hasPrefix("$") }) ?? false {
                let named = try namedArguments(name, argument, allowed: ["date", "timezone"], required: ["date"])
                try checkTimezone(name, named["timezone"])
                return [try Expression.parse(named["date"] ?? .null)]
            }
            let operands = try Expression.operands(argument)
            try checkArity(name, operands.count, 1...1)
            return operands
        }) { args, context in
            let value = try args[0].evaluate(context)
            if isNullish(value) { return .null }
            let result = part(CivilTime(milliseconds: try milliseconds(name, value)))
            return .int32(Int32(clamping: result))
        }
    }

    private static func milliseconds(_ name: String, _ value: BSONValue?) throws -> Int64 {
        switch value {
        case .datetime(let ms)?: return ms
        case .timestamp(_, let seconds)?: return Int64(seconds) * 1000
        case .objectId(let id)?: return Int64(id.seconds) * 1000
        default:
            throw OsmanthusError(.location(16006), "can't convert from BSON type \(typeName(value)) to Date")
        }
    }

    /// Only UTC (spelled "UTC", "GMT", "Z", "+00:00", "+0000" or "00:00") is supported.
    private static func checkTimezone(_ name: String, _ value: BSONValue?) throws {
        guard let value else { return }
        if case .string(let zone) = value, ["UTC", "GMT", "Z", "+00:00", "+0000", "+00", "Etc/UTC"].contains(zone) { return }
        throw OsmanthusError(.notImplemented, "\(name): only the UTC timezone is supported, got \(value)")
    }
}
