/// A five-field cron schedule, evaluated in UTC (SPEC.md §14.5):
///
///     minute hour day-of-month month day-of-week
///     0-59   0-23 1-31         1-12  0-7 (0 and 7 are Sunday)
///
/// Each field is `*` or a comma-separated list of `N`, `N-M`, `*/S`, `N-M/S` or `N/S` (from N
/// to the field's maximum, every S). Months and weekdays also take their English three-letter
/// names (`jan`, `mon`). `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly`
/// (`@annually`) are the usual shorthands. As in classic cron, when both day fields are
/// restricted a day matches if either does.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    /// 0 = Sunday ... 6 = Saturday.
    public let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    public let description: String

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let shorthands = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]

    public init(parsing text: String) throws {
        let trimmed = String(text.lowercased().drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        let expanded = CronExpression.shorthands[trimmed] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw StorageError(
                .invalidArgument, "cron expression '\(text)' has \(fields.count) fields; expected 5 "
                    + "(minute hour day-of-month month day-of-week)")
        }
        minutes = try CronExpression.field(fields[0], name: "minute", range: 0...59, names: [], in: text)
        hours = try CronExpression.field(fields[1], name: "hour", range: 0...23, names: [], in: text)
        daysOfMonth = try CronExpression.field(fields[2], name: "day-of-month", range: 1...31, names: [], in: text)
        months = try CronExpression.field(
            fields[3], name: "month", range: 1...12, names: CronExpression.monthNames, in: text)
        let weekdays = try CronExpression.field(
            fields[4], name: "day-of-week", range: 0...7, names: CronExpression.dayNames, in: text)
        daysOfWeek = Set(weekdays.map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        description = text
    }

    private static func field(
        _ text: String, name: String, range: ClosedRange<Int>, names: [String], in whole: String
    ) throws -> Set<Int> {
        func bad(_ why: String) -> StorageError {
            StorageError(.invalidArgument, "cron expression '\(whole)': \(name) field '\(text)' \(why)")
        }
        func number(_ s: Substring) throws -> Int {
            if let n = Int(s) {
                guard range.contains(n) else { throw bad("has \(n) outside \(range.lowerBound)-\(range.upperBound)") }
                return n
            }
            // Names count from the range's start: jan = 1, sun = 0.
            if let i = names.firstIndex(of: String(s)) { return range.lowerBound + i }
            throw bad("has '\(s)', which is not a number")
        }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw bad("has an empty list item") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw bad("has more than one '/'") }
            var step = 1
            if parts.count == 2 {
                guard let s = Int(parts[1]), s > 0 else { throw bad("has step '\(parts[1])'; expected a positive number") }
                step = s
            }
            let base = parts[0]
            var low: Int
            var high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try number(base[..<dash])
                high = try number(base[base.index(after: dash)...])
                guard low <= high else { throw bad("has the range \(low)-\(high), which is backwards") }
            } else {
                low = try number(base)
                high = parts.count == 2 ? range.upperBound : low
            }
            result.formUnion(stride(from: low, through: high, by: step))
        }
        return result
    }

    func matchesDay(_ t: CivilTime) -> Bool {
        guard months.contains(t.month) else { return false }
        let dom = daysOfMonth.contains(t.day)
        let dow = daysOfWeek.contains(t.weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dom || dow }
        return dom && dow
    }

    /// The first minute strictly after `seconds` (since 1970, UTC) that the expression matches,
    /// or nil if none does within 5 years (`0 0 31 2 *` never matches).
    public func next(after seconds: Int64) -> Int64? {
        var t = (CivilTime.floorDiv(seconds, 60) + 1) * 60
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        for _ in 0..<(5 * 366) {
            let civil = CivilTime(seconds: t)
            let dayStart = CivilTime.floorDiv(t, 86_400) * 86_400
            if matchesDay(civil) {
                for h in sortedHours where h >= civil.hour {
                    for m in sortedMinutes {
                        let candidate = dayStart + Int64(h * 3600 + m * 60)
                        if candidate >= t { return candidate }
                    }
                }
            }
            t = dayStart + 86_400
        }
        return nil
    }
}
