/// When the server takes backups (SPEC.md §14.5): never, every fixed interval, or on a cron
/// schedule. Text forms, as `--backup-interval` takes them:
///
///     off                       no scheduled backups
///     90s | 15m | 1h | 1d | 1h30m   every interval (units s, m, h, d; summed)
///     cron:0 3 * * *  |  @daily    a cron expression (`CronExpression`)
public enum BackupSchedule: Sendable, Equatable, CustomStringConvertible {
    case off
    case every(seconds: Int64)
    case cron(CronExpression)

    public init(parsing text: String) throws {
        let t = text.lowercased()
        if t == "off" || t == "none" || t == "0" {
            self = .off
        } else if t.hasPrefix("cron:") {
            self = .cron(try CronExpression(parsing: String(text.dropFirst(5))))
        } else if t.hasPrefix("@") || t.contains(" ") {
            self = .cron(try CronExpression(parsing: text))
        } else {
            self = .every(seconds: try BackupSchedule.duration(t, original: text))
        }
    }

    static func duration(_ t: String, original: String) throws -> Int64 {
        func bad() -> StorageError {
            StorageError(
                .invalidArgument,
                "backup schedule '\(original)' is not 'off', an interval like 30m, 1h, 1d or 1h30m, "
                    + "or a cron expression like 'cron:0 3 * * *'")
        }
        var total: Int64 = 0
        var digits = ""
        for c in t {
            if c.isASCII && c.isNumber {
                digits.append(c)
                continue
            }
            guard let n = Int64(digits) else { throw bad() }
            let unit: Int64
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: throw bad()
            }
            let (product, overflow) = n.multipliedReportingOverflow(by: unit)
            guard !overflow, total <= Int64.max - product else { throw bad() }
            total += product
            digits = ""
        }
        guard digits.isEmpty, total > 0 else { throw bad() }
        return total
    }

    /// The next time (seconds since 1970) a backup is due, given the last start (or the
    /// scheduler's start when none ran yet). Nil: never.
    public func next(after seconds: Int64) -> Int64? {
        switch self {
        case .off: nil
        case .every(let interval): seconds + interval
        case .cron(let c): c.next(after: seconds)
        }
    }

    public var description: String {
        switch self {
        case .off: "off"
        case .every(let s): "every \(s)s"
        case .cron(let c): "cron '\(c.description)'"
        }
    }
}
