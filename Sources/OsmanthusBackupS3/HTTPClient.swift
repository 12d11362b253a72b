import Glibc
import OsmanthusStorage

/// A minimal blocking HTTP/1.1 client (plain TCP, no TLS): one connection per request with
/// `Connection: close`; the response body is read by Content-Length, chunked encoding, or to
/// the end of the stream. Enough for S3's PUT/GET/DELETE/ListObjectsV2 on a local endpoint.
struct HTTPClient {
    struct Response {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    let host: String
    let port: Int

    func request(_ method: String, target: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        let fd = try connect()
        defer { close(fd) }
        var head = "\(method) \(target) HTTP/1.1\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try sendAll(fd, Array(head.utf8) + body)
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw StorageError(.io, "reading from \(host):\(port): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            data.append(contentsOf: chunk[..<n])
        }
        return try Self.parse(data, method: method)
    }

    static func parse(_ data: [UInt8], method: String) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, data.count - 3)).first(where: { data[$0..<$0 + 4].elementsEqual(separator) }) else {
            throw StorageError(.io, "HTTP response without a header end")
        }
        let lines = String(decoding: data[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw StorageError(.io, "bad HTTP status line '\(lines.first ?? "")'")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces))
        }
        var body = Array(data[(end + 4)...])
        let chunked = headers.contains { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }
        if method == "HEAD" {
            body = []
        } else if chunked {
            body = try dechunk(body)
        } else if let length = headers.first(where: { $0.0.lowercased() == "content-length" }).flatMap({ Int($0.1) }) {
            guard body.count >= length else { throw StorageError(.io, "HTTP body shorter than its Content-Length") }
            body = Array(body[..<length])
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = (i..<data.count - 1).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(), radix: 16) else { throw StorageError(.io, "bad chunk size") }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= data.count else { throw StorageError(.io, "truncated chunk") }
            out.append(contentsOf: data[start..<start + size])
            i = start + size + 2
        }
        return out
    }

    private func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw StorageError(.io, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(list) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        var lastErrno: Int32 = 0
        while let ai = cursor {
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if s >= 0 {
                if Glibc.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return s }
                lastErrno = errno
                close(s)
            }
            cursor = ai.pointee.ai_next
        }
        throw StorageError(.io, "cannot connect to \(host):\(port): \(String(cString: strerror(lastErrno)))")
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw StorageError(.io, "sending to \(host):\(port): \(String(cString: strerror(errno)))") }
            sent += n
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self).trimmingSpaces }
}
