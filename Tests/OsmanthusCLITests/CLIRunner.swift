import FoundationEssentials
import Glibc

/// Runs the `osmanthus` binary built next to this test bundle and collects its exit status,
/// stdout and stderr (through files in a scratch directory, read after it exits).
struct CLIRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let binary: String
    let scratch: String

    init(scratch: String) throws {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw Failure(description: "readlink /proc/self/exe failed") }
        var directory = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let last = directory.last, last != "/" { directory.removeLast() }
        binary = directory + "osmanthus"
        guard access(binary, X_OK) == 0 else {
            throw Failure(description: "\(binary) is missing: build it with `swift build --build-tests` first")
        }
        self.scratch = scratch
    }

    /// Runs `osmanthus <arguments>` to completion.
    func run(_ arguments: [String]) throws -> Result {
        let out = scratch + "/cli-stdout.txt"
        let err = scratch + "/cli-stderr.txt"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        guard rc == 0 else { throw Failure(description: "posix_spawn failed: errno \(rc)") }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid failed: errno \(errno)") }
        }
        // Low 7 bits: the signal that ended it (0 for a normal exit); exit code above them.
        guard raw & 0x7f == 0 else {
            throw Failure(description: "osmanthus \(arguments) killed by signal \(raw & 0x7f)")
        }
        return Result(status: (raw >> 8) & 0xff, stdout: try Self.read(out), stderr: try Self.read(err))
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
