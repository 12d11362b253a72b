import Testing

@testable import OsmanthusStorage

struct CronExpressionTests {
    /// 2026-11-21 (a Saturday) 22:14 UTC.
    let saturday = CivilTime.seconds(year: 2026, month: 11, day: 21, hour: 22, minute: 14)

    @Test func civilTimeRoundTripsAcrossLeapYearsAndCenturies() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (y, m, d) = CivilTime.date(fromDays: days)
            #expect(CivilTime.days(year: y, month: m, day: d) == days)
        }
        #expect(CivilTime.date(fromDays: 0) == (1970, 1, 1))
        #expect(CivilTime.date(fromDays: 11_016) == (2000, 2, 29))
        #expect(CivilTime.date(fromDays: -1) == (1969, 12, 31))
        #expect(CivilTime(seconds: 0).weekday == 4)  // a Thursday
        #expect(CivilTime(seconds: saturday).weekday == 6)
        #expect(CivilTime(seconds: saturday).hour == 22 && CivilTime(seconds: saturday).minute == 14)
    }

    @Test func everyMinuteFiresAtTheNextWholeMinute() throws {
        let c = try CronExpression(parsing: "* * * * *")
        #expect(c.next(after: saturday) == saturday + 60)
        #expect(c.next(after: saturday + 59) == saturday + 60)
    }

    @Test func dailyAtThreeRollsOverToTomorrow() throws {
        let c = try CronExpression(parsing: "0 3 * * *")
        #expect(c.next(after: saturday) == CivilTime.seconds(year: 2026, month: 11, day: 22, hour: 3))
        let early = CivilTime.seconds(year: 2026, month: 11, day: 22, hour: 2, minute: 59)
        #expect(c.next(after: early) == CivilTime.seconds(year: 2026, month: 11, day: 22, hour: 3))
        // Exactly at a match: the next one, not the same minute.
        let atThree = CivilTime.seconds(year: 2026, month: 11, day: 22, hour: 3)
        #expect(c.next(after: atThree) == CivilTime.seconds(year: 2026, month: 11, day: 23, hour: 3))
    }

    @Test func stepsRangesListsAndNames() throws {
        let c = try CronExpression(parsing: "*/15 9-17/4 * jan,jul mon-fri")
        #expect(c.minutes == [0, 15, 30, 45])
        #expect(c.hours == [9, 13, 17])
        #expect(c.months == [1, 7])
        #expect(c.daysOfWeek == [1, 2, 3, 4, 5])
        let n = try #require(c.next(after: saturday))
        // The first weekday of January 2027 is Friday the 1st.
        #expect(n == CivilTime.seconds(year: 2027, month: 1, day: 1, hour: 9))
        #expect(try CronExpression(parsing: "5/20 * * * *").minutes == [5, 25, 45])
    }

    @Test func sundayIsZeroOrSeven() throws {
        let a = try CronExpression(parsing: "0 0 * * 7")
        let b = try CronExpression(parsing: "0 0 * * sun")
        #expect(a.daysOfWeek == [0] && b.daysOfWeek == [0])
        #expect(a.next(after: saturday) == CivilTime.seconds(year: 2026, month: 11, day: 22))
    }

    @Test func restrictedDayOfMonthAndWeekMatchEither() throws {
        // The 1st of the month or any Monday: after Saturday the 21st, Monday the 23rd comes first.
        let c = try CronExpression(parsing: "0 0 1 * mon")
        #expect(c.next(after: saturday) == CivilTime.seconds(year: 2026, month: 11, day: 23))
        // Only the day of month restricted: the 1st, whatever weekday.
        let d = try CronExpression(parsing: "30 4 1 * *")
        #expect(d.next(after: saturday) == CivilTime.seconds(year: 2026, month: 12, day: 1, hour: 4, minute: 30))
    }

    @Test func leapDayIsFoundYearsAhead() throws {
        let c = try CronExpression(parsing: "0 12 29 2 *")
        #expect(c.next(after: saturday) == CivilTime.seconds(year: 2028, month: 2, day: 29, hour: 12))
        #expect(try CronExpression(parsing: "0 0 31 2 *").next(after: saturday) == nil)
    }

    @Test func shorthands() throws {
        #expect(try CronExpression(parsing: "@daily").next(after: saturday) == CivilTime.seconds(year: 2026, month: 11, day: 22))
        #expect(try CronExpression(parsing: "@hourly").next(after: saturday) == saturday - 14 * 60 + 3600)
        #expect(try CronExpression(parsing: " @monthly ").next(after: saturday) == CivilTime.seconds(year: 2026, month: 12, day: 1))
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
        "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "1/2/3 * * * *", "* * * foo *",
    ])
    func malformedExpressionsAreRejected(_ text: String) {
        #expect(throws: StorageError.self) { try CronExpression(parsing: text) }
    }

    @Test func schedulesParseIntervalsCronAndOff() throws {
        #expect(try BackupSchedule(parsing: "off") == .off)
        #expect(try BackupSchedule(parsing: "90s") == .every(seconds: 90))
        #expect(try BackupSchedule(parsing: "1h30m") == .every(seconds: 5400))
        #expect(try BackupSchedule(parsing: "2d") == .every(seconds: 172_800))
        #expect(try BackupSchedule(parsing: "cron:0 3 * * *") == .cron(try CronExpression(parsing: "0 3 * * *")))
        #expect(try BackupSchedule(parsing: "@weekly") == .cron(try CronExpression(parsing: "@weekly")))
        #expect(try BackupSchedule(parsing: "15m").next(after: saturday) == saturday + 900)
        #expect(BackupSchedule.off.next(after: saturday) == nil)
        for bad in ["", "h", "10", "10x", "1h-", "0s", "cron:* *", "99999999999999999999d"] {
            #expect(throws: StorageError.self) { try BackupSchedule(parsing: bad) }
        }
    }
}
