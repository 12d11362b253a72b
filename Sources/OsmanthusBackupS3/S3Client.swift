import Glibc
import OsmanthusStorage

/// S3 object operations over path-style URLs (`http://host:port/bucket/key`), signed with SigV4.
public struct S3Client: Sendable {
    public struct Credentials: Sendable {
        public let accessKey: String
        public let secretKey: String
        public init(accessKey: String, secretKey: String) {
            self.accessKey = accessKey
            self.secretKey = secretKey
        }
    }

    public let host: String
    public let port: Int
    public let bucket: String
    public let region: String
    let credentials: Credentials

    /// `endpoint` is `http://host[:port]` (TLS is not spoken here).
    public init(endpoint: String, bucket: String, region: String, credentials: Credentials) throws {
        var rest = Substring(endpoint)
        guard rest.hasPrefix("http://") else {
            throw StorageError(.invalidArgument, "S3 endpoint \(endpoint) must be http://host[:port] (no TLS support)")
        }
        rest = rest.dropFirst("http://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let colon = rest.lastIndex(of: ":"), let p = Int(rest[rest.index(after: colon)...]) {
            host = String(rest[..<colon])
            port = p
        } else {
            host = String(rest)
            port = 80
        }
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
    }

    /// Seconds since 1970 as `yyyyMMddTHHmmssZ`.
    static func amzDate() -> String {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        let seconds = Int64(t.tv_sec)
        let c = CivilTime(seconds: seconds)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(c.year)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(Int(seconds % 60)))Z"
    }

    func send(_ method: String, key: String?, query: [(String, String)] = [], body: [UInt8] = []) throws
        -> HTTPClient.Response
    {
        let path = "/" + SigV4.uriEncode(bucket, keepSlash: false) + (key.map { "/" + SigV4.uriEncode($0, keepSlash: true) } ?? "")
        let hostHeader = port == 80 ? host : "\(host):\(port)"
        let signer = SigV4(accessKey: credentials.accessKey, secretKey: credentials.secretKey, region: region)
        let signed = signer.sign(
            method: method, path: path, query: query, headers: [("host", hostHeader)], payload: body, amzDate: Self.amzDate())
        let queryText = query.map { SigV4.uriEncode($0.0, keepSlash: false) + "=" + SigV4.uriEncode($0.1, keepSlash: false) }
            .joined(separator: "&")
        let target = path + (queryText.isEmpty ? "" : "?" + queryText)
        return try HTTPClient(host: host, port: port).request(
            method, target: target, headers: [("Host", hostHeader)] + signed, body: body)
    }

    func check(_ r: HTTPClient.Response, _ what: String) throws {
        guard (200..<300).contains(r.status) else {
            let text = String(decoding: r.body.prefix(500), as: UTF8.self)
            throw StorageError(.io, "S3 \(what) failed: HTTP \(r.status) \(text)")
        }
    }

    public func createBucket() throws {
        let r = try send("PUT", key: nil)
        // 409: it exists already (BucketAlreadyOwnedByYou).
        if r.status != 409 { try check(r, "create bucket \(bucket)") }
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws {
        try check(try send("PUT", key: key, body: bytes), "PUT \(key)")
    }

    /// The object's bytes, or nil when there is none.
    public func get(_ key: String) throws -> [UInt8]? {
        let r = try send("GET", key: key)
        if r.status == 404 { return nil }
        try check(r, "GET \(key)")
        return r.body
    }

    public func delete(_ key: String) throws {
        let r = try send("DELETE", key: key)
        if r.status != 404 { try check(r, "DELETE \(key)") }
    }

    /// Every key under `prefix` with its size (ListObjectsV2, following continuation tokens).
    public func list(prefix: String) throws -> [(key: String, size: UInt64)] {
        var result: [(String, UInt64)] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let r = try send("GET", key: nil, query: query)
            try check(r, "LIST \(prefix)")
            let xml = String(decoding: r.body, as: UTF8.self)
            for contents in Self.elements("Contents", in: xml) {
                guard let key = Self.elements("Key", in: contents).first else { continue }
                let size = Self.elements("Size", in: contents).first.flatMap { UInt64($0) } ?? 0
                result.append((Self.unescapeXML(key), size))
            }
            token = Self.elements("IsTruncated", in: xml).first == "true"
                ? Self.elements("NextContinuationToken", in: xml).first.map(Self.unescapeXML) : nil
        } while token != nil
        return result
    }

    /// The text of each `<name>...</name>` in `xml` (no nesting of the same name in S3's replies).
    static func elements(_ name: String, in xml: String) -> [String] {
        let bytes = Array(xml.utf8)
        let open = Array("<\(name)>".utf8)
        let close = Array("</\(name)>".utf8)
        var out: [String] = []
        var i = 0
        while let a = find(open, in: bytes, from: i) {
            let start = a + open.count
            guard let b = find(close, in: bytes, from: start) else { break }
            out.append(String(decoding: bytes[start..<b], as: UTF8.self))
            i = b + close.count
        }
        return out
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && hay[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func unescapeXML(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        let entities = ["&lt;": "<", "&gt;": ">", "&quot;": "\"", "&apos;": "'", "&amp;": "&"]
        while let c = rest.first {
            if c == "&", let (entity, text) = entities.first(where: { rest.hasPrefix($0.key) }) {
                out += text
                rest = rest.dropFirst(entity.count)
            } else {
                out.append(c)
                rest = rest.dropFirst()
            }
        }
        return out
    }
}
