import OsmanthusBSON

/// Date operators: `$year $month $dayOfMonth $hour $minute $second $millisecond $dayOfWeek
/// $dayOfYear` and `$dateToString`, in UTC or in the zone of a `timezone` argument (an
/// expression giving a UTC offset or an Olson name, see `DateZone`; SPEC.md §12.6).
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
            try checkTimezone(fields["timezone"])
            if case .string(let format)? = fields["format"] {
                do { _ = try CivilTime.formatChecked(0, format) } catch let error as CivilTime.UnknownSpecifier {
                    throw OsmanthusError(.location(18536), "Invalid format character '\(error.specifier)' in format string")
                }
            }
            return [
                try Expression.parse(fields["date"] ?? .null),
                try fields["format"].map(Expression.parse) ?? .literal(.string("%Y-%m-%dT%H:%M:%S.%LZ")),
                try fields["onNull"].map(Expression.parse) ?? .literal(.null),
                try fields["timezone"].map(Expression.parse) ?? .literal(.string("UTC")),
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
            guard let zone = try timeZone(args[3].evaluate(context)) else { return .null }
            do { return .string(try CivilTime.formatChecked(ms, text, zone: zone)) } catch let error as CivilTime.UnknownSpecifier {
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
                try checkTimezone(named["timezone"])
                return [try Expression.parse(named["date"] ?? .null)] + (try named["timezone"].map { [try Expression.parse($0)] } ?? [])
            }
            let operands = try Expression.operands(argument)
            try checkArity(name, operands.count, 1...1)
            return operands
        }) { args, context in
            let value = try args[0].evaluate(context)
            if isNullish(value) { return .null }
            let ms = try milliseconds(name, value)
            var local = DateZone.utc
            if args.count > 1 {
                guard let zone = try timeZone(args[1].evaluate(context)) else { return .null }
                local = zone
            }
            let result = part(local.civil(ms))
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

    /// A literal timezone is checked when the expression is parsed (Location40485 for a name
    /// that is no zone); a computed one when evaluated.
    private static func checkTimezone(_ value: BSONValue?) throws {
        if case .string(let text)? = value, !text.hasPrefix("$") { _ = try timeZone(value) }
    }

    /// The zone a `timezone` value names; nil for null or missing (the result is then null).
    private static func timeZone(_ value: BSONValue?) throws -> DateZone? {
        switch value {
        case nil, .null?, .undefined?: return nil
        case .string(let text)?:
            guard let zone = DateZone(text) else {
                throw OsmanthusError(.location(40485), "unrecognized time zone identifier: \"\(text)\"")
            }
            return zone
        default:
            throw OsmanthusError(.location(40517), "timezone must evaluate to a string, found \(typeName(value))")
        }
    }
}
