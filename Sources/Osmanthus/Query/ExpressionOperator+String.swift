import OsmanthusBSON

/// String operators: `$substrCP`, `$toLower`, `$toUpper`, `$split`, `$trim` (`$concat` is in
/// the core set). Positions count Unicode code points, as MongoDB's `CP` variants do.
extension ExpressionOperator {
    static let strings: [ExpressionOperator] = [
        ExpressionOperator("$substrCP", arity: 3...3) { args, context in
            let text = try coerceToString("$substrCP", try args[0].evaluate(context))
            let (start, count) = (try args[1].evaluate(context), try args[2].evaluate(context))
            guard let start, start.isNumber, let from = start.numericDouble.map(Int64.init), from >= 0 else {
                throw OsmanthusError(.location(34455), "$substrCP: starting index must be a non-negative integer")
            }
            guard let count, count.isNumber, let length = count.numericDouble.map(Int64.init), length >= 0 else {
                throw OsmanthusError(.location(34456), "$substrCP: length must be a non-negative integer")
            }
            let scalars = Array(text.unicodeScalars)
            let lower = min(Int(clamping: from), scalars.count)
            let upper = min(lower + Int(clamping: length), scalars.count)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[lower..<upper])
            return .string(String(view))
        },
        ExpressionOperator("$toLower", arity: 1...1) { args, context in
            .string(try coerceToString("$toLower", try args[0].evaluate(context)).lowercased())
        },
        ExpressionOperator("$toUpper", arity: 1...1) { args, context in
            .string(try coerceToString("$toUpper", try args[0].evaluate(context)).uppercased())
        },
        ExpressionOperator("$split", arity: 2...2) { args, context in
            let (value, separator) = (try args[0].evaluate(context), try args[1].evaluate(context))
            if isNullish(value) || isNullish(separator) { return .null }
            guard case .string(let text)? = value else {
                throw OsmanthusError(.location(40085), "$split requires an expression that evaluates to a string as a first argument, found: \(typeName(value))")
            }
            guard case .string(let delimiter)? = separator else {
                throw OsmanthusError(.location(40086), "$split requires an expression that evaluates to a string as a second argument, found: \(typeName(separator))")
            }
            guard !delimiter.isEmpty else {
                throw OsmanthusError(.location(40087), "$split requires a non-empty separator")
            }
            return .array(split(text, by: delimiter).map { .string($0) })
        },
        trim("$trim", leading: true, trailing: true),
        trim("$ltrim", leading: true, trailing: false),
        trim("$rtrim", leading: false, trailing: true),
        ExpressionOperator("$strLenCP", arity: 1...1) { args, context in
            let value = try args[0].evaluate(context)
            guard case .string(let text)? = value else {
                throw OsmanthusError(.location(34471), "$strLenCP requires a string argument, found: \(typeName(value))")
            }
            return .int32(Int32(clamping: text.unicodeScalars.count))
        },
    ]

    /// What the string operators that accept any scalar see: null and missing are "",
    /// numbers and dates their string form.
    static func coerceToString(_ name: String, _ value: BSONValue?) throws -> String {
        switch value {
        case nil, .null?, .undefined?: return ""
        case .string(let text)?: return text
        case let value? where value.isNumber: return try convertToString(value)
        case .datetime?, .timestamp?: return try convertToString(value ?? .null)
        default:
            throw OsmanthusError(.location(16007), "can't convert from BSON type \(typeName(value)) to String")
        }
    }

    /// Splits on every occurrence of `delimiter` (empty parts kept, as MongoDB does).
    private static func split(_ text: String, by delimiter: String) -> [String] {
        let source = Array(text.utf8)
        let needle = Array(delimiter.utf8)
        var parts = [String]()
        var start = 0
        var index = 0
        while index + needle.count <= source.count {
            if source[index..<index + needle.count].elementsEqual(needle) {
                parts.append(String(decoding: source[start..<index], as: UTF8.self))
                index += needle.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(String(decoding: source[start...], as: UTF8.self))
        return parts
    }

    /// `$trim`/`$ltrim`/`$rtrim`: `{input, chars}`; without `chars`, whitespace and NUL.
    private static func trim(_ name: String, leading: Bool, trailing: Bool) -> ExpressionOperator {
        ExpressionOperator(
            name,
            parseArguments: { argument in
                let fields = try namedArguments(name, argument, allowed: ["input", "chars"], required: ["input"])
                var nodes = [try Expression.parse(fields["input"] ?? .null)]
                if let chars = fields["chars"] { nodes.append(try Expression.parse(chars)) }
                return nodes
            },
            evaluate: { args, context in
                let input = try args[0].evaluate(context)
                if isNullish(input) { return .null }
                guard case .string(let text)? = input else {
                    throw OsmanthusError(.location(50699), "\(name) requires its input to be a string, got \(typeName(input))")
                }
                var set: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\0", "\u{A0}", "\u{2000}", "\u{3000}"]
                if args.count > 1 {
                    let chars = try args[1].evaluate(context)
                    if isNullish(chars) { return .null }
                    guard case .string(let custom)? = chars else {
                        throw OsmanthusError(.location(50700), "\(name) requires 'chars' to be a string, got \(typeName(chars))")
                    }
                    set = Set(custom.unicodeScalars)
                }
                var scalars = Array(text.unicodeScalars)[...]
                if leading { while let first = scalars.first, set.contains(first) { scalars = scalars.dropFirst() } }
                if trailing { while let last = scalars.last, set.contains(last) { scalars = scalars.dropLast() } }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                return .string(String(view))
            })
    }
}
