import Glibc

/// A one-line progress bar on stderr, drawn only when stderr is a terminal (so pipes, logs
/// and tests see none), redrawn at most 10 times a second.
final class ProgressBar {
    private let label: String
    private let total: UInt64
    private let enabled: Bool
    private var lastDraw: UInt64 = 0

    init(_ label: String, total: UInt64) {
        self.label = label
        self.total = total
        enabled = isatty(2) == 1 && total > 0
    }

    func update(_ done: UInt64) {
        guard enabled else { return }
        let now = Self.milliseconds()
        guard now - lastDraw >= 100 || done >= total else { return }
        lastDraw = now
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        Self.write("\r\(label) [\(bar)] \(Int(fraction * 100))% \(Self.megabytes(done))/\(Self.megabytes(total)) MB")
    }

    func finish() {
        guard enabled else { return }
        update(total)
        Self.write("\n")
    }

    private static func megabytes(_ bytes: UInt64) -> String {
        let tenths = bytes * 10 / 1_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func milliseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1000 + UInt64(t.tv_nsec) / 1_000_000
    }

    private static func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
