import OsmanthusBSON

/// A `$regex` condition compiled once with Swift's `Regex`.
///
/// MongoDB uses PCRE; Swift's engine accepts most of the same syntax (classes, quantifiers,
/// lazy and possessive forms, backreferences, lookahead, named groups, `(?i)`-style flags). The
/// options map to inline flags: `i` case-insensitive, `m` `^`/`$` at line ends, `s` dot matches
/// newline, `x` extended (whitespace and `#` comments ignored); `u` is accepted and changes
/// nothing (matching is always by Unicode scalar). Unsupported syntax (lookbehind, for one) is
/// a BadValue at parse time, never a silent mismatch.
struct QueryRegex: Sendable {
    let pattern: String
    let options: String
    private let compiled: CompiledRegex

    static let validOptions: Set<Character> = ["i", "m", "s", "x", "u"]

    init(pattern: String, options: String) throws {
        for option in options where !QueryRegex.validOptions.contains(option) {
            throw OsmanthusError(.badValue, "invalid flag in regex options: \(option)")
        }
        guard !pattern.utf8.contains(0) else {
            throw OsmanthusError(.badValue, "Regular expression cannot contain an embedded null byte")
        }
        self.pattern = pattern
        self.options = String(options.sorted())
        let flags = options.filter { "imsx".contains($0) }
        var source = flags.isEmpty ? "" : "(?\(String(Set(flags).sorted())))"
        source += options.contains("m") ? pattern : QueryRegex.pcreDollar(pattern)
        do {
            compiled = CompiledRegex(try Regex(source).matchingSemantics(.unicodeScalar))
        } catch {
            throw OsmanthusError(.badValue, "Regular expression is invalid: \(error)")
        }
    }

    /// Whether the pattern matches somewhere in `text`.
    func matches(_ text: String) -> Bool {
        text.contains(compiled.regex)
    }

    /// The query semantics of a regex condition on one value: strings and symbols are searched;
    /// a stored regex matches only an identical regex.
    func matches(value: BSONValue) -> Bool {
        switch value {
        case .string(let text), .symbol(let text): matches(text)
        case .regex(let otherPattern, let otherOptions): otherPattern == pattern && otherOptions == options
        default: false
        }
    }

    /// PCRE's `$` (without `m`) also matches before a final newline; Swift's only at the end.
    /// Rewrites each unescaped `$` outside a character class to `(?=\n?\z)`.
    static func pcreDollar(_ pattern: String) -> String {
        guard pattern.contains("$") else { return pattern }
        var result = ""
        var escaped = false
        var inClass = false
        for character in pattern {
            if escaped {
                escaped = false
                result.append(character)
                continue
            }
            switch character {
            case "\\": escaped = true; result.append(character)
            case "[": inClass = true; result.append(character)
            case "]": inClass = false; result.append(character)
            case "$" where !inClass: result += "(?=\\n?\\z)"
            default: result.append(character)
            }
        }
        return result
    }
}

/// Holds a compiled `Regex`. `Regex` is an immutable value whose lazily lowered program the
/// standard library publishes atomically, so matching from several threads at once is safe; it
/// is only not declared `Sendable` because of its generic `Output`. Nothing here is mutable.
final class CompiledRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
}
