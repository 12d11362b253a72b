/// A BSON binary value: a subtype byte and the bytes.
///
/// Subtype 0x02 ("old binary") is stored with an extra inner length; `data` is always just the
/// payload, whatever the subtype.
public struct BSONBinary: Sendable, Hashable {
    /// The binary subtype byte (bsonspec.org): 0x00–0x09 defined, 0x80–0xFF user-defined.
    public struct Subtype: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public init(_ rawValue: UInt8) { self.rawValue = rawValue }

        public static let generic = Subtype(0x00)
        public static let function = Subtype(0x01)
        /// Deprecated: the payload is wrapped in a second int32 length.
        public static let binaryOld = Subtype(0x02)
        /// Deprecated: a UUID in a driver-specific byte order.
        public static let uuidOld = Subtype(0x03)
        /// A UUID in RFC 4122 byte order.
        public static let uuid = Subtype(0x04)
        public static let md5 = Subtype(0x05)
        public static let encrypted = Subtype(0x06)
        public static let column = Subtype(0x07)
        public static let sensitive = Subtype(0x08)
        public static let vector = Subtype(0x09)
        public static let userDefined = Subtype(0x80)

        public var description: String { "0x" + Hex.encode([rawValue]) }
    }

    public var subtype: Subtype
    public var data: [UInt8]

    public init(subtype: Subtype = .generic, data: [UInt8]) {
        self.subtype = subtype
        self.data = data
    }

    /// A subtype-4 UUID from its 16 bytes.
    public init(uuidBytes: [UInt8]) {
        precondition(uuidBytes.count == 16, "a UUID is 16 bytes")
        self.init(subtype: .uuid, data: uuidBytes)
    }

    /// Parses a UUID string (`8-4-4-4-12` hex digits, or 32 digits without hyphens) into a
    /// subtype-4 binary; nil if malformed.
    public init?(uuidString: String) {
        let chars = Array(uuidString.utf8)
        let hexDigits: [UInt8]
        if chars.count == 36 {
            for position in [8, 13, 18, 23] where chars[position] != UInt8(ascii: "-") { return nil }
            hexDigits = chars.enumerated().filter { ![8, 13, 18, 23].contains($0.offset) }.map(\.element)
        } else if chars.count == 32 {
            hexDigits = chars
        } else {
            return nil
        }
        guard let bytes = Hex.decode(hexDigits) else { return nil }
        self.init(subtype: .uuid, data: bytes)
    }

    /// For a 16-byte UUID subtype (3 or 4): its `8-4-4-4-12` lower-case string.
    public var uuidString: String? {
        guard data.count == 16, subtype == .uuid || subtype == .uuidOld else { return nil }
        let hex = Array(Hex.encode(data).utf8)
        var out = [UInt8]()
        for (i, char) in hex.enumerated() {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            out.append(char)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
