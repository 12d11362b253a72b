import OsmanthusBSON
import Testing

@testable import OsmanthusServer

/// The server side of SCRAM against the worked exchanges in RFC 5802 §5 (SHA-1) and RFC 7677
/// §3 (SHA-256): user "user", password "pencil", fixed nonces and salt.
struct SCRAMTests {
    struct Vector {
        var mechanism: SCRAMMechanism
        var salt: String
        var clientNonce: String
        var serverNonce: String
        var proof: String
        var serverSignature: String
    }

    static let vectors = [
        Vector(
            mechanism: .sha1, salt: "QSXCR+Q6sek8bf92", clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
            serverNonce: "3rfcNHYJY1ZVvWVs7j", proof: "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            serverSignature: "rmF9pqV8S7suAoZWja4dJRkFsKQ="),
        Vector(
            mechanism: .sha256, salt: "W22ZaJ0SNY7soEsUEjb6gQ==", clientNonce: "rOprNGfwEbeRWgbNEkqO",
            serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", proof: "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            serverSignature: "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
    ]

    func conversation(_ v: Vector) throws -> (SCRAMConversation, String) {
        let credential = SCRAMCredential.derive(
            v.mechanism, scramPassword: Array("pencil".utf8), salt: Base64.decode(v.salt) ?? [], iterations: 4096)
        let (conversation, serverFirst) = try SCRAMConversation.start(
            v.mechanism, clientFirst: Array("n,,n=user,r=\(v.clientNonce)".utf8), serverNonce: v.serverNonce
        ) { user in user == "user" ? credential : nil }
        return (conversation, String(decoding: serverFirst, as: UTF8.self))
    }

    @Test(arguments: vectors)
    func theRFCExchangeIsAcceptedWithTheRFCServerSignature(_ v: Vector) throws {
        let (conversation, serverFirst) = try conversation(v)
        #expect(serverFirst == "r=\(v.clientNonce)\(v.serverNonce),s=\(v.salt),i=4096")
        let final = try conversation.finish(
            clientFinal: Array("c=biws,r=\(v.clientNonce)\(v.serverNonce),p=\(v.proof)".utf8))
        #expect(String(decoding: final, as: UTF8.self) == "v=\(v.serverSignature)")
    }

    @Test(arguments: vectors)
    func aWrongProofIsAuthenticationFailed(_ v: Vector) throws {
        let (conversation, _) = try conversation(v)
        var proof = Base64.decode(v.proof) ?? []
        proof[0] ^= 1
        #expect(throws: (any Error).self) {
            try conversation.finish(
                clientFinal: Array("c=biws,r=\(v.clientNonce)\(v.serverNonce),p=\(Base64.encode(proof))".utf8))
        }
    }

    @Test func anUnknownUserIsAuthenticationFailed() {
        #expect(throws: (any Error).self) {
            _ = try SCRAMConversation.start(.sha256, clientFirst: Array("n,,n=nobody,r=abc".utf8)) { _ in nil }
        }
    }
}
