import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `osmanthus serve`'s settings from a file and the environment, turned into command-line
/// arguments placed before the real ones, so the precedence is: flags, then environment, then
/// file (ArgumentParser keeps the last value of an option).
///
/// File (`--config path`): one `key = value` per line; `#` starts a comment; keys are the long
/// option names without dashes (`port = 27018`, `bind = 0.0.0.0`, `auth = true`). Environment:
/// `OSMANTHUS_` + the option name upper-cased with `_` for `-` (`OSMANTHUS_PORT`,
/// `OSMANTHUS_DATA_DIR`, `OSMANTHUS_HTTP_PORT`, `OSMANTHUS_AUTH=true`).
enum ServeSettings {
    static let options = [
        "data-dir", "port", "bind", "advertise", "http-port", "replica-set", "cursor-timeout-ms", "log-level",
        "tls-cert-file", "tls-key-file", "event-loop-threads",
    ]
    static let flags = ["auth", "no-auth", "enable-test-commands", "no-inline-commands"]

    static func arguments(commandLine: [String]) throws -> [String] {
        var settings: [(String, String)] = []
        if let index = commandLine.firstIndex(of: "--config") {
            guard index + 1 < commandLine.count else { throw ValidationError("--config needs a file path") }
            settings += try file(commandLine[index + 1])
        }
        for key in options + flags {
            let name = "OSMANTHUS_" + key.uppercased().replacing("-", with: "_")
            if let value = getenv(name) { settings.append((key, String(cString: value))) }
        }
        var arguments: [String] = []
        for (key, value) in settings {
            if flags.contains(key) {
                switch value.lowercased() {
                case "true", "1", "yes", "on": arguments.append("--\(key)")
                case "false", "0", "no", "off": break
                default: throw ValidationError("\(key) must be true or false, got '\(value)'")
                }
            } else if options.contains(key) {
                arguments += ["--\(key)", value]
            } else {
                throw ValidationError("unknown setting '\(key)' (known: \((options + flags).joined(separator: ", ")))")
            }
        }
        return arguments + commandLine
    }

    private static func file(_ path: String) throws -> [(String, String)] {
        guard let handle = fopen(path, "r") else { throw ValidationError("cannot read --config \(path)") }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, handle)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        var settings: [(String, String)] = []
        for (number, raw) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ValidationError("\(path):\(number + 1): expected key = value")
            }
            settings.append((String(trimmed[..<equals]).trimmingWhitespace, String(trimmed[trimmed.index(after: equals)...]).trimmingWhitespace))
        }
        return settings
    }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
