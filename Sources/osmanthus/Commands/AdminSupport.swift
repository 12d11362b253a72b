import ArgumentParser
import FoundationEssentials
import Glibc
import Osmanthus
import OsmanthusStorage

/// What the admin commands share: opening a data directory without creating it, reporting
/// errors as one clear line on stderr with exit code 1, and JSON output.
enum Admin {
    /// Opens an existing database. A directory a running process holds is refused (`.busy`).
    static func open(_ directory: String, readOnly: Bool) throws -> DB {
        var options = Options()
        options.createIfMissing = false
        options.readOnly = readOnly
        return try DB.open(at: directory, options: options)
    }

    /// The `--data-dir` an offline command needs.
    static func dataDir(_ given: String?) throws -> String {
        guard let given else {
            throw ValidationError("give --data-dir (offline) or --server mongodb://host:port (a running server)")
        }
        return given
    }

    /// Runs `body`; a failure is printed as `osmanthus: error: ...` and ends the process with 1.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as StorageError {
            fail(message(e))
        } catch let e as OsmanthusError {
            // The embedded layer wraps storage failures (a held LOCK among them).
            if let cause = e.cause as? StorageError { fail(message(cause)) }
            fail(e.description)
        } catch let e as ExitCode {
            throw e
        } catch {
            fail("\(error)")
        }
    }

    static func message(_ e: StorageError) -> String {
        if e.code == .busy {
            return "\(e.file.map { parent(of: $0) } ?? "the directory") is in use by a running process "
                + "(its LOCK is held); stop that process first, or act on the running server with "
                + "--server mongodb://host:port"
        }
        return e.description
    }

    static func fail(_ text: String) -> Never {
        printError("osmanthus: error: " + text)
        exit(1)
    }

    static func printError(_ text: String) {
        // One write(2) on descriptor 2: no shared FILE* (not concurrency-safe in Swift 6).
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Bytes as text: printable ASCII as is, anything else (and backslash) as \xNN.
    static func escape<C: Swift.Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = ""
        for b in bytes {
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") {
                s.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = String(b, radix: 16)
                s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return s
    }

    /// At most `limit` bytes of `bytes`, escaped, with the full length when cut.
    static func preview<C: Swift.Collection>(_ bytes: C, limit: Int = 64) -> String where C.Element == UInt8 {
        bytes.count <= limit ? escape(bytes) : escape(bytes.prefix(limit)) + "... (\(bytes.count) bytes)"
    }
}
