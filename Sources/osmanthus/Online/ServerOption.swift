import ArgumentParser
import OsmanthusBSON

/// `--server mongodb://host:port` (or `--host`/`--port`): run an admin command against a
/// running server instead of a data directory.
struct ServerOption: ParsableArguments {
    @Option(help: "A running server to act on (mongodb://host:port); instead of --data-dir.")
    var server: String?

    @Option(help: "Host of a running server to act on (with --port); instead of --data-dir.")
    var host: String?

    @Option(help: "Port of a running server (default 27017 with --host).")
    var port: Int?

    /// host and port, when the command should go online.
    func endpoint() throws -> (host: String, port: Int)? {
        if let server {
            guard host == nil, port == nil else { throw ValidationError("give --server or --host/--port, not both") }
            var rest = Substring(server)
            if rest.hasPrefix("mongodb://") { rest = rest.dropFirst("mongodb://".count) }
            if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) { rest = rest[..<slash] }
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            if rest.contains(",") { throw ValidationError("--server takes one host, not a seed list") }
            var hostPart = rest
            var portNumber = 27017
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {  // [::1]:27017
                hostPart = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()) else { throw ValidationError("bad port in --server \(server)") }
                    portNumber = p
                }
            } else if let colon = rest.lastIndex(of: ":") {
                hostPart = rest[..<colon]
                guard let p = Int(rest[rest.index(after: colon)...]) else { throw ValidationError("bad port in --server \(server)") }
                portNumber = p
            }
            guard !hostPart.isEmpty, (1...65535).contains(portNumber) else { throw ValidationError("bad --server \(server)") }
            return (String(hostPart), portNumber)
        }
        if let host { return (host, port ?? 27017) }
        if port != nil { return ("127.0.0.1", port ?? 27017) }
        return nil
    }

    /// Runs one admin command on the server `endpoint` names.
    func run(_ command: Document) throws -> Document {
        guard let (h, p) = try endpoint() else { throw ValidationError("no server given") }
        return try WireClient(host: h, port: p).run(command)
    }

    /// The reply without `ok` and driver fields, as JSON for `--json`.
    static func json(_ reply: Document) -> String {
        var out = Document()
        for (key, value) in reply where key != "ok" && !key.hasPrefix("$") && key != "operationTime" {
            out.append(key, value)
        }
        return out.toExtendedJSON(mode: .relaxed)
    }
}
