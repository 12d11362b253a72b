import Glibc

/// A child process started with `posix_spawn`, its stdout on a pipe read line by line and its
/// stderr in a file (shown when it fails).
final class ChildProcess {
    enum Status: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let pid: pid_t
    let stderrPath: String
    private var stdoutFD: Int32
    private var buffer: [UInt8] = []
    private var reachedEnd = false
    private var status: Status?

    /// Starts `executable` with `arguments` (without argv[0]); stdin is /dev/null.
    init(executable: String, arguments: [String], stderrPath: String) throws {
        self.stderrPath = stderrPath
        // Close-on-exec: processes other tests spawn must not inherit the write end, or the read
        // end would never see EOF after this child dies. (`pipe2` is not visible from Swift.)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Failure(description: "pipe failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        Glibc.close(fds[1])
        guard rc == 0 else {
            Glibc.close(fds[0])
            throw Failure(description: "posix_spawn \(executable) failed: errno \(rc)")
        }
        pid = child
        stdoutFD = fds[0]
    }

    deinit {
        if stdoutFD >= 0 { Glibc.close(stdoutFD) }
        if status == nil {
            _ = Glibc.kill(pid, SIGKILL)
            _ = try? wait()
        }
    }

    /// The next stdout line without its newline; nil at end of file. Fails when the child
    /// writes nothing for `timeoutSeconds` (a hang, not a crash).
    func readLine(timeoutSeconds: Int32 = 60) throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if reachedEnd { return nil }
            var pfd = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, timeoutSeconds * 1000)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else {
                throw Failure(description: "child \(pid) wrote nothing for \(timeoutSeconds) s")
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(stdoutFD, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "read from child \(pid) failed: errno \(errno)")
            }
            if n == 0 {
                reachedEnd = true
            } else {
                buffer.append(contentsOf: chunk[..<n])
            }
        }
    }

    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Waits for the child to end (once; later calls return the same status).
    func wait() throws -> Status {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid \(pid) failed: errno \(errno)") }
        }
        // The W* macros are not visible from Swift: low 7 bits are the signal, 0 for an exit.
        let result: Status = raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signaled(raw & 0x7f)
        status = result
        return result
    }

    /// What the child wrote to stderr (for failure messages), at most the last 4 KB.
    var stderrText: String {
        guard let f = fopen(stderrPath, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return String(decoding: bytes.suffix(4096), as: UTF8.self)
    }
}
