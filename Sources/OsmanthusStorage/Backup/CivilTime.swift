/// UTC calendar arithmetic on seconds since 1970, for schedules and retention (no Foundation
/// calendar: these must give the same answer on every machine and time zone).
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    /// 1...12
    public var month: Int
    /// 1...31
    public var day: Int
    public var hour: Int
    public var minute: Int
    /// 0 = Sunday ... 6 = Saturday (cron's numbering).
    public var weekday: Int

    public init(seconds: Int64) {
        let days = CivilTime.floorDiv(seconds, 86_400)
        let inDay = Int(seconds - days * 86_400)
        (year, month, day) = CivilTime.date(fromDays: days)
        hour = inDay / 3600
        minute = inDay % 3600 / 60
        // 1970-01-01 was a Thursday (4).
        weekday = Int(CivilTime.floorMod(days + 4, 7))
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// The proleptic Gregorian date of a day number (0 = 1970-01-01), by eras of 400 years
    /// (146 097 days) counted from 0000-03-01 so that leap days fall at the end of a year.
    public static func date(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153  // month from March = 0
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// The inverse of `date(fromDays:)`.
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Seconds since 1970 of a UTC date and time.
    public static func seconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0) -> Int64 {
        days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60)
    }
}
