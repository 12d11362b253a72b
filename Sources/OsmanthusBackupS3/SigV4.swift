import Crypto

/// AWS Signature Version 4 for S3 requests (header form, payload hash signed), as the AWS
/// documentation "Signature Version 4 signing process" describes it.
struct SigV4 {
    let accessKey: String
    let secretKey: String
    let region: String
    var service = "s3"

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    static func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
    }

    /// RFC 3986 unreserved characters stay; everything else is %XX (upper case). `/` too,
    /// unless `keepSlash` (object keys in the path).
    static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for b in text.utf8 {
            let c = Character(Unicode.Scalar(b))
            if (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || c == "-" || c == "_" || c == "." || c == "~" || (keepSlash && c == "/")
            {
                out.append(c)
            } else {
                let h = Array("0123456789ABCDEF")
                out += "%" + String(h[Int(b >> 4)]) + String(h[Int(b & 15)])
            }
        }
        return out
    }

    /// The headers to add (`x-amz-date`, `x-amz-content-sha256`, `Authorization`) for a request.
    /// `path` is already URI-encoded; `query` pairs are raw; `headers` must include `host`.
    func sign(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payload: [UInt8],
        amzDate: String
    ) -> [(String, String)] {
        let payloadHash = Self.sha256Hex(payload)
        let date = String(amzDate.prefix(8))
        var all = headers.map { ($0.0.lowercased(), $0.1.trimmingSpaces) }
        all.append(("x-amz-content-sha256", payloadHash))
        all.append(("x-amz-date", amzDate))
        all.sort { $0.0 < $1.0 }
        let canonicalQuery = query.map { (Self.uriEncode($0.0, keepSlash: false), Self.uriEncode($0.1, keepSlash: false)) }
            .sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalHeaders = all.map { "\($0.0):\($0.1)\n" }.joined()
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonicalRequest = [method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.sha256Hex(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
        var key = Self.hmac(Array(("AWS4" + secretKey).utf8), date)
        key = Self.hmac(key, region)
        key = Self.hmac(key, service)
        key = Self.hmac(key, "aws4_request")
        let signature = Self.hex(Self.hmac(key, stringToSign))
        return [
            ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ),
        ]
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
