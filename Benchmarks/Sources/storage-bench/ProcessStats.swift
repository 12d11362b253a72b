// Memory, disk and load figures, read from /proc and the file system.
import Foundation

enum ProcessStats {
    /// A field of /proc/self/status in bytes, e.g. "VmHWM" (peak resident set) or "VmRSS".
    static func statusBytes(_ field: String) -> Int {
        let text = readProcFile("/proc/self/status")
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kib = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kib * 1024
        }
        return 0
    }

    /// Apparent size (sum of file lengths) of everything under `path`, logs included.
    static func directoryBytes(_ path: String) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        while let name = walker.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                total += (attributes?[.size] as? Int) ?? 0
            }
        }
        return total
    }

    static func loadAverage() -> String {
        let text = readProcFile("/proc/loadavg")
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func cpuModel() -> String {
        let text = readProcFile("/proc/cpuinfo")
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }

    static func memoryTotal() -> String {
        let text = readProcFile("/proc/meminfo")
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let kib = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return String(format: "%.0f GiB", Double(kib) / 1_048_576)
        }
        return "?"
    }

    /// The version suffix of a shared library this process has mapped, e.g. "7.8.3" for
    /// "librocksdb.so.7.8.3" (the C API has no version call).
    static func loadedLibraryVersion(_ prefix: String) -> String? {
        let maps = readProcFile("/proc/self/maps")
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ").last,
                let name = path.split(separator: "/").last,
                name.hasPrefix(prefix)
            else { continue }
            return String(name.dropFirst(prefix.count))
        }
        return nil
    }

    /// A /proc file read to its end with plain read(2): such files report size 0, and
    /// Foundation's whole-file readers can come back short on them.
    static func readProcFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
