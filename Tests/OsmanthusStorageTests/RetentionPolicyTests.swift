import Testing

@testable import OsmanthusStorage

struct RetentionPolicyTests {
    typealias C = RetentionPolicy.Candidate
    let now = CivilTime.seconds(year: 2026, month: 11, day: 21, hour: 22, minute: 14)

    /// One backup every `step` seconds back from `now`, ids increasing with time.
    func series(count: Int, step: Int64) -> [C] {
        (0..<count).map { i in C(id: String(i + 1), createdAt: now - Int64(count - 1 - i) * step) }
    }

    @Test func keepLastKeepsTheNewestOnly() {
        let backups = series(count: 10, step: 60)
        #expect(RetentionPolicy(last: 3).select(backups, now: now) == ["8", "9", "10"])
        #expect(RetentionPolicy(last: 0).select(backups, now: now).isEmpty)
        #expect(RetentionPolicy(last: 50).select(backups, now: now).count == 10)
    }

    @Test func hourlyKeepsTheNewestOfEachHour() {
        // Every 20 minutes for 5 hours: 15 backups, three per hour bucket (ish).
        let backups = series(count: 15, step: 1200)
        let keep = RetentionPolicy(last: 0, hourly: 3).select(backups, now: now)
        // Expected by hand: newest per UTC hour for the 3 newest hours that have backups.
        var byHour: [Int64: C] = [:]
        for b in backups {
            let h = b.createdAt / 3600
            if let old = byHour[h], old.createdAt > b.createdAt { continue }
            byHour[h] = b
        }
        let expected = Set(byHour.keys.sorted().suffix(3).compactMap { byHour[$0]?.id })
        #expect(keep == expected)
        #expect(keep.count == 3)
        #expect(keep.contains("15"))
    }

    @Test func dailyWeeklyMonthlyPickCalendarBuckets() {
        // One backup a day at 02:00 for 120 days, ending on Saturday 2026-11-21.
        let days = 120
        let backups = (0..<days).map { i -> C in
            let day = CivilTime.days(year: 2026, month: 11, day: 21) - Int64(days - 1 - i)
            return C(id: String(i + 1), createdAt: day * 86_400 + 7200)
        }
        let daily = RetentionPolicy(last: 0, daily: 7).select(backups, now: now)
        #expect(daily == Set((114...120).map(String.init)))
        // Weeks run Monday to Sunday: the newest of each week is its Sunday, except this week's
        // (Saturday the 21st). Sundays: Nov 15, Nov 8, Nov 1.
        let weekly = RetentionPolicy(last: 0, weekly: 4).select(backups, now: now)
        let sunday15 = backups.first { CivilTime(seconds: $0.createdAt) == CivilTime(seconds: CivilTime.seconds(year: 2026, month: 11, day: 15, hour: 2)) }
        #expect(weekly.count == 4)
        #expect(weekly.contains("120"))
        #expect(weekly.contains(sunday15?.id ?? "?"))
        for id in weekly where id != "120" {
            let b = backups.first { $0.id == id }
            #expect(b.map { CivilTime(seconds: $0.createdAt).weekday } == 0)
        }
        // Months: the newest of November (the 21st), and the last days of Oct, Sep, Aug.
        let monthly = RetentionPolicy(last: 0, monthly: 4).select(backups, now: now)
        let dates = monthly.compactMap { id in backups.first { $0.id == id } }.map { CivilTime(seconds: $0.createdAt) }
        #expect(Set(dates.map { "\($0.month)-\($0.day)" }) == ["11-21", "10-31", "9-30", "8-31"])
    }

    @Test func bucketsCountPeriodsThatHaveBackupsNotCalendarPeriods() {
        // Two backups 10 days apart: daily 7 keeps both (a gap does not use up the count).
        let backups = [C(id: "1", createdAt: now - 10 * 86_400), C(id: "2", createdAt: now)]
        #expect(RetentionPolicy(last: 0, daily: 7).select(backups, now: now) == ["1", "2"])
        #expect(RetentionPolicy(last: 0, daily: 1).select(backups, now: now) == ["2"])
    }

    @Test func setsOverlapAndUnion() {
        let backups = series(count: 48, step: 1800)  // every 30 minutes for a day
        let both = RetentionPolicy(last: 2, hourly: 2).select(backups, now: now)
        let last = RetentionPolicy(last: 2).select(backups, now: now)
        let hourly = RetentionPolicy(last: 0, hourly: 2).select(backups, now: now)
        #expect(both == last.union(hourly))
        #expect(both.count < last.count + hourly.count)  // the newest counts for both
    }

    @Test func futureBackupsAreKeptWhenTheClockWentBack() {
        let backups = [C(id: "1", createdAt: now - 100), C(id: "2", createdAt: now + 3600)]
        #expect(RetentionPolicy(last: 0).select(backups, now: now) == ["2"])
    }

    @Test func tiesAreBrokenByIdNewestWins() {
        let backups = [C(id: "000009", createdAt: now), C(id: "000010", createdAt: now)]
        #expect(RetentionPolicy(last: 1).select(backups, now: now) == ["000010"])
        #expect(RetentionPolicy(last: 0, hourly: 1).select(backups, now: now) == ["000010"])
    }
}
