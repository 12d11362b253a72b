import Glibc

/// Keeps a backup's reads and copies at or under a byte rate (SPEC.md §14.2), so a scheduled
/// backup leaves the disk and the CPU to the database's own writers: after each chunk it sleeps
/// until the bytes moved so far are due at that rate. One pacer spans a whole backup (every
/// file it checksums or copies), so many small files cannot add up to a burst.
final class CopyPacer {
    let bytesPerSecond: Double
    private var bytes: Double = 0
    private var start: Double?
    private let now: () -> Double
    private let sleep: (Double) -> Void

    /// nil when `bytesPerSecond` is nil or 0: unpaced.
    init?(
        bytesPerSecond: UInt64?, now: @escaping () -> Double = CopyPacer.monotonicSeconds,
        sleep: @escaping (Double) -> Void = CopyPacer.sleepSeconds
    ) {
        guard let rate = bytesPerSecond, rate > 0 else { return nil }
        self.bytesPerSecond = Double(rate)
        self.now = now
        self.sleep = sleep
    }

    /// Called after `count` bytes were read or written; returns once they are within the rate.
    func moved(_ count: Int) {
        let t = now()
        let begin = start ?? t
        if start == nil { start = t }
        bytes += Double(count)
        let due = begin + bytes / bytesPerSecond
        if due > t { sleep(due - t) }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func sleepSeconds(_ s: Double) {
        var request = timespec(tv_sec: Int(s), tv_nsec: Int((s - s.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
