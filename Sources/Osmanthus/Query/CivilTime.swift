import OsmanthusBSON

/// Calendar arithmetic for the date operators (in UTC; `DateZone.civil` shifts an instant to
/// local time first): milliseconds since the epoch to and from
/// year, month, day... (the proleptic Gregorian calendar, as MongoDB uses), and
/// `$dateToString`'s format specifiers.
struct CivilTime: Equatable {
    var year: Int64
    var month: Int64  // 1...12
    var day: Int64  // 1...31
    var hour: Int64
    var minute: Int64
    var second: Int64
    var millisecond: Int64
    /// Days since 1970-01-01 (for day of week and day of year).
    var epochDay: Int64

    static let millisecondsPerDay: Int64 = 86_400_000

    init(milliseconds: Int64) {
        var days = milliseconds / Self.millisecondsPerDay
        var rest = milliseconds % Self.millisecondsPerDay
        if rest < 0 {
            days -= 1
            rest += Self.millisecondsPerDay
        }
        epochDay = days
        (year, month, day) = Self.civil(days: days)
        millisecond = rest % 1000
        second = rest / 1000 % 60
        minute = rest / 60_000 % 60
        hour = rest / 3_600_000
    }

    /// 1 (Sunday) to 7 (Saturday), as `$dayOfWeek`.
    var dayOfWeek: Int64 { ((epochDay % 7 + 7) % 7 + 4) % 7 + 1 }
    /// 1 to 366.
    var dayOfYear: Int64 { epochDay - Self.days(year: year, month: 1, day: 1) + 1 }

    /// Days since the epoch of a civil date (the calendar arithmetic BSON's date text uses).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        DateTimeText.days(year: year, month: month, day: day)
    }

    static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let c = DateTimeText.civil(days: days)
        return (c.year, c.month, c.day)
    }

    /// Formats with `$dateToString`'s specifiers (`%Y %m %d %H %M %S %L %j %w %u %z %Z %%`);
    /// nil names the first unknown specifier.
    static func format(_ milliseconds: Int64, _ format: String, zone: DateZone = .utc) -> String {
        (try? formatChecked(milliseconds, format, zone: zone)) ?? ""
    }

    struct UnknownSpecifier: Error { let specifier: String }

    static func formatChecked(_ milliseconds: Int64, _ format: String, zone: DateZone = .utc) throws -> String {
        let t = zone.civil(milliseconds)
        let offset = zone.offsetSeconds(at: milliseconds) / 60  // minutes east of UTC
        var out = ""
        var chars = format.makeIterator()
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(abs(value))
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        while let c = chars.next() {
            guard c == "%" else {
                out.append(c)
                continue
            }
            guard let spec = chars.next() else { throw UnknownSpecifier(specifier: "%") }
            switch spec {
            case "Y": out += pad(t.year, 4)
            case "m": out += pad(t.month, 2)
            case "d": out += pad(t.day, 2)
            case "H": out += pad(t.hour, 2)
            case "M": out += pad(t.minute, 2)
            case "S": out += pad(t.second, 2)
            case "L": out += pad(t.millisecond, 3)
            case "j": out += pad(t.dayOfYear, 3)
            case "w": out += String(t.dayOfWeek)
            case "u": out += String((t.dayOfWeek + 5) % 7 + 1)
            case "z": out += (offset < 0 ? "-" : "+") + pad(abs(offset) / 60 * 100 + abs(offset) % 60, 4)
            case "Z": out += (offset < 0 ? "-" : "+") + String(abs(offset))  // minutes east of UTC
            case "%": out += "%"
            default: throw UnknownSpecifier(specifier: "%\(spec)")
            }
        }
        return out
    }

    /// Parses `YYYY-MM-DD` optionally followed by `THH:MM[:SS[.fff]]` and `Z`; nil if malformed.
    static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int64? {
            guard i + width <= bytes.count else { return nil }
            var n: Int64 = 0
            for b in bytes[i..<i + width] {
                guard b >= 48, b <= 57 else { return nil }
                n = n * 10 + Int64(b - 48)
            }
            i += width
            return n
        }
        func literal(_ c: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), literal(45), let month = number(2), literal(45), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var ms = days(year: year, month: month, day: day) * millisecondsPerDay
        if literal(84) || literal(32) {
            guard let hour = number(2), literal(58), let minute = number(2), hour < 24, minute < 60 else { return nil }
            ms += hour * 3_600_000 + minute * 60_000
            if literal(58) {
                guard let second = number(2), second < 60 else { return nil }
                ms += second * 1000
                if literal(46) {
                    var digits = 0
                    var fraction: Int64 = 0
                    while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                        if digits < 3 { fraction = fraction * 10 + Int64(bytes[i] - 48) }
                        digits += 1
                        i += 1
                    }
                    guard digits > 0 else { return nil }
                    for _ in digits..<max(digits, 3) { fraction *= 10 }
                    ms += fraction
                }
            }
        }
        _ = literal(90)
        return i == bytes.count ? ms : nil
    }
}
