/// BSON datetimes (milliseconds since the Unix epoch, UTC) to and from the RFC 3339 text that
/// relaxed Extended JSON uses, without Foundation: the proleptic Gregorian calendar through
/// day counts (the "days from civil" algorithm).
package enum DateTimeText {
    static let millisecondsPerDay: Int64 = 86_400_000
    /// 1970-01-01T00:00:00Z and 10000-01-01T00:00:00Z: relaxed form is used between them.
    static let relaxedRange: Range<Int64> = 0..<253_402_300_800_000

    /// Days since 1970-01-01 of a civil date.
    package static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    package static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for a datetime in `relaxedRange` (milliseconds only when
    /// not zero).
    static func format(_ milliseconds: Int64) -> String {
        var days = milliseconds / millisecondsPerDay
        var rest = milliseconds % millisecondsPerDay
        if rest < 0 {
            days -= 1
            rest += millisecondsPerDay
        }
        let (year, month, day) = civil(days: days)
        let millis = rest % 1000
        let seconds = rest / 1000
        var out = [UInt8]()
        func put(_ value: Int64, width: Int) {
            var digits = [UInt8]()
            var v = value
            for _ in 0..<width {
                digits.append(UInt8(ascii: "0") + UInt8(v % 10))
                v /= 10
            }
            out.append(contentsOf: digits.reversed())
        }
        put(year, width: 4)
        out.append(UInt8(ascii: "-"))
        put(month, width: 2)
        out.append(UInt8(ascii: "-"))
        put(day, width: 2)
        out.append(UInt8(ascii: "T"))
        put(seconds / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        put(seconds / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        put(seconds % 60, width: 2)
        if millis != 0 {
            out.append(UInt8(ascii: "."))
            put(millis, width: 3)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; digits past milliseconds are
    /// truncated. Nil if malformed.
    static func parse(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int64? {
            guard i + width <= c.count else { return nil }
            var value: Int64 = 0
            for k in 0..<width {
                let d = c[i + k]
                guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(d - UInt8(ascii: "0"))
            }
            i += width
            return value
        }
        func literal(_ char: Character) -> Bool {
            guard i < c.count, let ascii = char.asciiValue, c[i] == ascii else { return false }
            i += 1
            return true
        }
        guard let year = number(4), literal("-"), let month = number(2), literal("-"), let day = number(2),
            i < c.count, c[i] == UInt8(ascii: "T") || c[i] == UInt8(ascii: "t")
        else { return nil }
        i += 1
        guard let hour = number(2), literal(":"), let minute = number(2), literal(":"), let second = number(2)
        else { return nil }
        var millis: Int64 = 0
        if literal(".") {
            var digitsSeen = 0
            while i < c.count, c[i] >= UInt8(ascii: "0"), c[i] <= UInt8(ascii: "9") {
                if digitsSeen < 3 { millis = millis * 10 + Int64(c[i] - UInt8(ascii: "0")) }
                digitsSeen += 1
                i += 1
            }
            guard digitsSeen > 0 else { return nil }
            for _ in digitsSeen..<max(digitsSeen, 3) { millis *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if literal("Z") || literal("z") {
        } else if i < c.count, c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
            let negative = c[i] == UInt8(ascii: "-")
            i += 1
            guard let hours = number(2) else { return nil }
            _ = literal(":")
            guard let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offsetMinutes = (hours * 60 + minutes) * (negative ? -1 : 1)
        } else {
            return nil
        }
        guard i == c.count, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 61
        else { return nil }
        let dayCount = days(year: year, month: month, day: day)
        let secondsOfDay = hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return dayCount * millisecondsPerDay + secondsOfDay * 1000 + millis
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
