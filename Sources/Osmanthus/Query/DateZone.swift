import FoundationEssentials
import FoundationInternationalization

/// The `timezone` argument of the date operators (SPEC.md §12.6): a fixed UTC offset
/// (`"+hh:mm"`, `"-hhmm"`, `"+hh"`) or an Olson identifier (`"Europe/Paris"`), whose offset
/// depends on the instant (daylight saving) and comes from Foundation's time-zone database.
struct DateZone: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case fixed(seconds: Int64)
        case olson(TimeZone)
    }

    let kind: Kind

    static let utc = DateZone(kind: .fixed(seconds: 0))

    /// The zone named by `text`; nil when it names none (MongoDB's Location40485).
    init?(_ text: String) {
        if ["UTC", "GMT", "Z"].contains(text) {
            kind = .fixed(seconds: 0)
        } else if let first = text.first, first == "+" || first == "-" {
            guard let seconds = Self.offset(text.dropFirst()) else { return nil }
            kind = .fixed(seconds: first == "-" ? -seconds : seconds)
        } else if let zone = TimeZone(identifier: text) {
            kind = .olson(zone)
        } else {
            return nil
        }
    }

    private init(kind: Kind) { self.kind = kind }

    /// `hh`, `hhmm` or `hh:mm` (hours below 100, minutes below 60), in seconds.
    private static func offset(_ text: Substring) -> Int64? {
        let digits = text.filter { $0 != ":" }
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.count == 2 || digits.count == 4,
            text.count == digits.count || (text.count == 5 && text[text.index(text.startIndex, offsetBy: 2)] == ":"),
            let n = Int64(digits)
        else { return nil }
        let (hours, minutes) = digits.count == 2 ? (n, Int64(0)) : (n / 100, n % 100)
        guard minutes < 60 else { return nil }
        return hours * 3600 + minutes * 60
    }

    /// Seconds east of UTC at the instant `milliseconds` (since the epoch).
    func offsetSeconds(at milliseconds: Int64) -> Int64 {
        switch kind {
        case .fixed(let seconds): return seconds
        case .olson(let zone):
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            return Int64(zone.secondsFromGMT(for: date))
        }
    }

    /// The local calendar fields of the instant `milliseconds` in this zone.
    func civil(_ milliseconds: Int64) -> CivilTime {
        CivilTime(milliseconds: milliseconds &+ offsetSeconds(at: milliseconds) &* 1000)
    }
}
