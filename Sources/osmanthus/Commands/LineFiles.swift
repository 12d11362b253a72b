import Glibc

/// Reads a file line by line through a 1 MiB buffer (import files can be larger than memory).
final class LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    /// Bytes consumed so far (for progress).
    private(set) var offset: UInt64 = 0
    let path: String
    let size: UInt64

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AdminError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        size = fstat(fd, &st) == 0 ? UInt64(st.st_size) : 0
    }

    deinit { close(fd) }

    /// The next line without its "\n" (and "\r"), or nil at the end.
    func next() throws -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[start..<nl])
                offset += UInt64(nl + 1 - start)
                start = nl + 1
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return line
            }
            if eof {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                offset += UInt64(line.count)
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw AdminError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { eof = true } else { buffer.append(contentsOf: chunk[..<n]) }
        }
    }
}

/// Writes a file through a 1 MiB buffer; `finish` flushes, fsyncs and closes it.
final class BufferedWriter {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var written: UInt64 = 0
    let path: String

    /// Creates (or truncates) `path`; "-" is stdout.
    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 1
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw AdminError("cannot create \(path): \(String(cString: strerror(errno)))") }
        }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if fd != 1 { close(fd) } }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        var done = 0
        while done < buffer.count {
            let n = buffer[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AdminError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
        written += UInt64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() throws {
        try flush()
        if fd != 1 { _ = fsync(fd) }
    }
}
