import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A 12-byte BSON ObjectId: 4-byte big-endian seconds since the epoch, 5 bytes random per
/// process, 3-byte big-endian counter (starting at a random value). Ordered as its bytes are.
public struct ObjectId: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Bytes 0–7 and 8–11, big-endian, so that comparing (high, low) compares the bytes.
    let high: UInt64
    let low: UInt32

    /// Random per process, chosen once (40 bits).
    private static let processUnique = UInt64.random(in: 0...0xFF_FFFF_FFFF)
    /// The 24-bit counter; shared by every thread, so atomic.
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0...0xFF_FFFF))

    /// A new ObjectId for the current time.
    public init() {
        let seconds = UInt32(truncatingIfNeeded: time(nil))
        let count = ObjectId.counter.wrappingAdd(1, ordering: .relaxed).newValue & 0xFF_FFFF
        self.init(seconds: seconds, processUnique: ObjectId.processUnique, counter: count)
    }

    /// An ObjectId from its three parts (for tests and for range bounds by time).
    public init(seconds: UInt32, processUnique: UInt64, counter: UInt32) {
        let unique = processUnique & 0xFF_FFFF_FFFF
        high = UInt64(seconds) << 32 | unique >> 8
        low = UInt32(truncatingIfNeeded: unique & 0xFF) << 24 | counter & 0xFF_FFFF
    }

    init(high: UInt64, low: UInt32) {
        self.high = high
        self.low = low
    }

    /// The ObjectId whose bytes are `bytes`; nil unless there are exactly 12.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 12 else { return nil }
        var high: UInt64 = 0
        var low: UInt32 = 0
        for (i, byte) in bytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt32(byte) }
        }
        self.init(high: high, low: low)
    }

    /// Reads 12 bytes at `offset` (the caller checked the bounds).
    init(reading buffer: UnsafeRawBufferPointer, at offset: Int) {
        high = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        low = UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
    }

    /// Parses 24 hexadecimal digits, in either case.
    public init(_ hex: String) throws {
        guard let id = ObjectId(hex: hex) else {
            throw BSONError(.invalidObjectId, "not a 24-digit hex ObjectId: \"\(hex)\"")
        }
        self = id
    }

    /// Parses 24 hexadecimal digits, in either case; nil otherwise.
    public init?(hex: String) {
        let utf8 = hex.utf8
        guard utf8.count == 24 else { return nil }
        var high: UInt64 = 0
        var low: UInt32 = 0
        for (i, char) in utf8.enumerated() {
            guard let nibble = Hex.value(of: char) else { return nil }
            if i < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt32(nibble) }
        }
        self.init(high: high, low: low)
    }

    /// The 12 bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(12)
        append(to: &out)
        return out
    }

    func append(to out: inout [UInt8]) {
        withUnsafeBytes(of: high.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: low.bigEndian) { out.append(contentsOf: $0) }
    }

    /// The creation time in seconds since the epoch (the first 4 bytes).
    public var seconds: UInt32 { UInt32(truncatingIfNeeded: high >> 32) }

    /// 24 lower-case hexadecimal digits.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }

    public static func < (a: ObjectId, b: ObjectId) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}
