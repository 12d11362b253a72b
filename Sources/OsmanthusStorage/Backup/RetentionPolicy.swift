/// Which backups to keep (SPEC.md §14.5): the newest `last`, plus the newest backup of each
/// of the most recent `hourly` hours, `daily` days, `weekly` weeks (Monday to Sunday) and
/// `monthly` months that have a backup, all in UTC. The sets overlap: one backup can count as
/// the last, the hour's, the day's and the month's. Backups dated after `now` (a clock set back)
/// are always kept.
public struct RetentionPolicy: Sendable, Equatable {
    public var last: Int
    public var hourly: Int
    public var daily: Int
    public var weekly: Int
    public var monthly: Int

    public init(last: Int, hourly: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0) {
        self.last = last
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// The server's default: 3 newest, 24 hourly, 7 daily, 4 weekly, 6 monthly.
    public static let standard = RetentionPolicy(last: 3, hourly: 24, daily: 7, weekly: 4, monthly: 6)

    /// What `select` needs of a backup.
    public struct Candidate: Sendable, Equatable {
        public let id: String
        /// Seconds since 1970 (UTC).
        public let createdAt: Int64
        public init(id: String, createdAt: Int64) {
            self.id = id
            self.createdAt = createdAt
        }
    }

    /// The ids of `backups` to keep at time `now`; the rest may be pruned.
    public func select(_ backups: [Candidate], now: Int64) -> Set<String> {
        // Newest first; ids break ties (they increase with each backup).
        let newest = backups.sorted {
            ($0.createdAt, Int($0.id) ?? 0, $0.id) > ($1.createdAt, Int($1.id) ?? 0, $1.id)
        }
        var keep = Set(newest.filter { $0.createdAt > now }.map(\.id))
        for b in newest.prefix(max(0, last)) { keep.insert(b.id) }
        let buckets: [(count: Int, bucket: (Int64) -> Int64)] = [
            (hourly, { CivilTime.floorDiv($0, 3600) }),
            (daily, { CivilTime.floorDiv($0, 86_400) }),
            // Day 0 was a Thursday: shifting by 3 makes weeks start on Monday.
            (weekly, { CivilTime.floorDiv(CivilTime.floorDiv($0, 86_400) + 3, 7) }),
            (monthly, {
                let c = CivilTime(seconds: $0)
                return Int64(c.year) * 12 + Int64(c.month - 1)
            }),
        ]
        for (count, bucket) in buckets where count > 0 {
            var seen = Set<Int64>()
            for b in newest {
                let key = bucket(b.createdAt)
                if seen.contains(key) { continue }
                if seen.count == count { break }
                seen.insert(key)
                keep.insert(b.id)
            }
        }
        return keep
    }

    public func select(_ backups: [BackupInfo], now: Int64) -> Set<String> {
        select(backups.map { Candidate(id: $0.id, createdAt: $0.createdAt) }, now: now)
    }

    public var description: String {
        "last \(last), hourly \(hourly), daily \(daily), weekly \(weekly), monthly \(monthly)"
    }
}
