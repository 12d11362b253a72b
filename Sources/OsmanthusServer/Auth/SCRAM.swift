import Crypto
import Osmanthus
import OsmanthusBSON

/// SCRAM (RFC 5802; SHA-256 per RFC 7677) as MongoDB uses it: the two mechanisms, the keys a
/// user record stores (never the password), and the server's side of one exchange.
enum SCRAMMechanism: String, CaseIterable, Sendable {
    case sha1 = "SCRAM-SHA-1"
    case sha256 = "SCRAM-SHA-256"

    /// MongoDB's defaults (scramIterationCount, scramSHA256IterationCount).
    var defaultIterations: Int { self == .sha1 ? 10_000 : 15_000 }

    func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: data))
        case .sha256: Array(SHA256.hash(data: data))
        }
    }

    func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        }
    }

    /// PBKDF2 (RFC 8018) with this mechanism's HMAC, one block of output (= the hash size).
    func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        func mac(_ data: [UInt8]) -> [UInt8] {
            switch self {
            case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
            case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
            }
        }
        var u = mac(salt + [0, 0, 0, 1])
        var result = u
        for _ in 1..<max(1, iterations) {
            u = mac(u)
            for i in result.indices { result[i] ^= u[i] }
        }
        return result
    }

    /// The password SCRAM salts: SCRAM-SHA-1 in MongoDB uses hex(MD5("user:mongo:password"))
    /// (the old MONGODB-CR digest); SCRAM-SHA-256 the UTF-8 bytes of the SASLprepped password
    /// (as drivers prepare it; BadValue for a prohibited character).
    func scramPassword(user: String, password: String) throws -> [UInt8] {
        switch self {
        case .sha1:
            let digest = Insecure.MD5.hash(data: Array("\(user):mongo:\(password)".utf8))
            return Array(digest.map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined().utf8)
        case .sha256:
            return Array(try SASLprep.prepare(password).utf8)
        }
    }
}

/// What a user record keeps for one mechanism (MongoDB's `credentials.<mechanism>`).
struct SCRAMCredential: Sendable, Equatable {
    var iterations: Int
    var salt: [UInt8]
    var storedKey: [UInt8]
    var serverKey: [UInt8]

    static func derive(
        _ mechanism: SCRAMMechanism, user: String, password: String, salt: [UInt8]? = nil, iterations: Int? = nil
    ) throws -> SCRAMCredential {
        var generator = SystemRandomNumberGenerator()
        let salt = salt ?? (0..<(mechanism == .sha1 ? 16 : 28)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return derive(
            mechanism, scramPassword: try mechanism.scramPassword(user: user, password: password), salt: salt,
            iterations: iterations ?? mechanism.defaultIterations)
    }

    /// The keys for a password already in SCRAM's form (`SCRAMMechanism.scramPassword`).
    static func derive(_ mechanism: SCRAMMechanism, scramPassword: [UInt8], salt: [UInt8], iterations: Int) -> SCRAMCredential {
        let salted = mechanism.pbkdf2(password: scramPassword, salt: salt, iterations: iterations)
        let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
        return SCRAMCredential(
            iterations: iterations, salt: salt, storedKey: mechanism.hash(clientKey),
            serverKey: mechanism.hmac(key: salted, Array("Server Key".utf8)))
    }

    var document: Document {
        [
            "iterationCount": .int32(Int32(clamping: iterations)),
            "salt": .string(Base64.encode(salt)),
            "storedKey": .string(Base64.encode(storedKey)),
            "serverKey": .string(Base64.encode(serverKey)),
        ]
    }

    init(iterations: Int, salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    init?(_ document: Document) {
        guard let iterations = document["iterationCount"]?.exactInt64,
            case .string(let salt)? = document["salt"], let salt = Base64.decode(salt),
            case .string(let stored)? = document["storedKey"], let stored = Base64.decode(stored),
            case .string(let server)? = document["serverKey"], let server = Base64.decode(server)
        else { return nil }
        self.init(iterations: Int(iterations), salt: salt, storedKey: stored, serverKey: server)
    }
}

/// The server side of one SCRAM exchange: `start` answers the client-first message,
/// `finish` checks the client's proof and answers with the server signature.
struct SCRAMConversation: Sendable {
    static let authenticationFailed = OsmanthusError(.authenticationFailed, "Authentication failed.")

    let mechanism: SCRAMMechanism
    let user: String
    let credential: SCRAMCredential
    let clientFirstBare: String
    let serverFirst: String
    let nonce: String
    let gs2Header: String

    /// Parses "n,,n=user,r=nonce"; `credential` looks the user up (nil: no such user).
    static func start(
        _ mechanism: SCRAMMechanism, clientFirst payload: [UInt8], serverNonce: String? = nil,
        credential lookup: (String) throws -> SCRAMCredential?
    ) throws -> (SCRAMConversation, serverFirst: [UInt8]) {
        let message = String(decoding: payload, as: UTF8.self)
        let parts = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y", parts[1].isEmpty || parts[1].hasPrefix("a=") else {
            throw OsmanthusError(.badValue, "SCRAM: malformed client-first message (channel binding is not supported)")
        }
        let bare = String(parts[2])
        let attributes = Self.attributes(bare)
        guard let escapedUser = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty else {
            throw OsmanthusError(.badValue, "SCRAM: client-first message needs n= and r=")
        }
        var user = escapedUser.replacingOccurrences("=2C", ",").replacingOccurrences("=3D", "=")
        var found = try lookup(user)
        if mechanism == .sha256 {
            // SCRAM-SHA-256 names are compared SASLprepped; a user created under the exact
            // name sent is still found first.
            let prepared = try SASLprep.prepare(user, field: "user name")
            if found == nil, prepared != user {
                found = try lookup(prepared)
                if found != nil { user = prepared }
            }
        }
        guard let credential = found else { throw authenticationFailed }
        var generator = SystemRandomNumberGenerator()
        let serverNonce = serverNonce
            ?? Base64.encode((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let nonce = clientNonce + serverNonce
        let serverFirst = "r=\(nonce),s=\(Base64.encode(credential.salt)),i=\(credential.iterations)"
        let conversation = SCRAMConversation(
            mechanism: mechanism, user: user, credential: credential, clientFirstBare: bare, serverFirst: serverFirst,
            nonce: nonce, gs2Header: "\(parts[0]),\(parts[1]),")
        return (conversation, Array(serverFirst.utf8))
    }

    /// Checks "c=...,r=...,p=proof"; returns the server-final message "v=signature".
    func finish(clientFinal payload: [UInt8]) throws -> [UInt8] {
        let message = String(decoding: payload, as: UTF8.self)
        guard let proofRange = message.firstRange(of: ",p=") else { throw Self.authenticationFailed }
        let withoutProof = String(message[..<proofRange.lowerBound])
        let attributes = Self.attributes(message)
        guard attributes["c"] == Base64.encode(Array(gs2Header.utf8)), attributes["r"] == nonce,
            let proofText = attributes["p"], let proof = Base64.decode(proofText),
            proof.count == credential.storedKey.count
        else { throw Self.authenticationFailed }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = mechanism.hmac(key: credential.storedKey, authMessage)
        let clientKey = zip(proof, clientSignature).map { $0 ^ $1 }
        // Compare without an early exit.
        let computed = mechanism.hash(clientKey)
        guard zip(computed, credential.storedKey).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw Self.authenticationFailed
        }
        let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
        return Array("v=\(Base64.encode(serverSignature))".utf8)
    }

    /// "a=1,b=2" → ["a": "1", "b": "2"] (values keep any '=' after the first).
    private static func attributes(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in message.split(separator: ",") {
            guard let equals = part.firstIndex(of: "="), part.distance(from: part.startIndex, to: equals) == 1 else { continue }
            result[String(part[..<equals])] = String(part[part.index(after: equals)...])
        }
        return result
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
