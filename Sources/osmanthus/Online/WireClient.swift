import Glibc
import NIOCore
import OsmanthusBSON
import OsmanthusWire

/// A tiny blocking MongoDB wire client for the admin tool: one TCP connection, one OP_MSG
/// command at a time, no compression, no TLS. Enough for `osmanthus ... --server`.
final class WireClient {
    private let fd: Int32
    private var nextRequestID: Int32 = 1
    let address: String

    /// Connects to `host:port` (IPv4 or IPv6, as getaddrinfo resolves it).
    init(host: String, port: Int) throws {
        address = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw AdminError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = 0
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                    fd = s
                    return
                }
                lastErrno = errno
                close(s)
            } else {
                lastErrno = errno
            }
            cursor = ai.pointee.ai_next
        }
        throw AdminError("cannot connect to \(host):\(port): \(String(cString: strerror(lastErrno))) (is the server running?)")
    }

    deinit { close(fd) }

    /// Runs `command` on database `db` and returns the reply; `{ok: 0}` replies are thrown as
    /// their errmsg.
    func run(_ command: Document, db: String = "admin") throws -> Document {
        var body = command
        body.append("$db", .string(db))
        let id = nextRequestID
        nextRequestID &+= 1
        var out = ByteBuffer()
        try WireMessage(requestID: id, body: .msg(OpMsg(body: body))).write(to: &out)
        try sendAll(Array(out.readableBytesView))
        let header = try receive(16)
        let length = Int(Int32(littleEndian: header.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard length >= 16, length <= WireFormat.maxMessageSizeBytes else {
            throw AdminError("\(address) sent a message of \(length) bytes")
        }
        let frame = ByteBuffer(bytes: header + (try receive(length - 16)))
        let message = try WireMessage.parse(frame: frame)
        guard case .msg(let msg) = message.body else { throw AdminError("\(address) did not answer with OP_MSG") }
        let reply = msg.body
        if reply["ok"]?.numericDouble != 1 {
            let text = reply["errmsg"]?.stringValue ?? reply.toExtendedJSON()
            let code = reply["codeName"]?.stringValue.map { " (\($0))" } ?? ""
            throw AdminError("server \(address): \(text)\(code)")
        }
        return reply
    }

    private func sendAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AdminError("sending to \(address) failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    private func receive(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw AdminError("\(address) closed the connection" + (n < 0 ? ": \(String(cString: strerror(errno)))" : ""))
            }
            got += n
        }
        return buffer
    }
}

/// A failure the admin tool reports as one line.
struct AdminError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
