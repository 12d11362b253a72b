import Glibc

/// What an internal key records about its user key (SPEC.md §6). The raw values are stored.
public enum ValueKind: UInt8, Sendable {
    case deletion = 0
    case value = 1
}

/// Sequence numbers are 56 bits: they share a fixed64 with the kind byte.
public typealias SequenceNumber = UInt64
public let maxSequenceNumber: SequenceNumber = (1 << 56) - 1

/// Internal keys: `user key ‖ fixed64(sequence << 8 | kind)` (SPEC.md §6).
///
/// Ordered by user key ascending (bytewise), then sequence descending, then kind descending, so
/// the newest version of a key comes first and a seek to `(key, snapshot)` lands on the newest
/// version visible at that snapshot.
public enum InternalKey {
    public static let trailerSize = 8

    @inline(__always)
    public static func packTrailer(_ sequence: SequenceNumber, _ kind: ValueKind) -> UInt64 {
        precondition(sequence <= maxSequenceNumber)
        return sequence << 8 | UInt64(kind.rawValue)
    }

    public static func make(_ userKey: [UInt8], _ sequence: SequenceNumber, _ kind: ValueKind) -> [UInt8] {
        // Written in place into one allocation (every point read builds one of these).
        let trailer = packTrailer(sequence, kind)
        let count = userKey.count
        return [UInt8](unsafeUninitializedCapacity: count + trailerSize) { buffer, initialized in
            guard let out = buffer.baseAddress else { return }
            userKey.withUnsafeBufferPointer { source in
                if let from = source.baseAddress { out.initialize(from: from, count: count) }
            }
            UnsafeMutableRawPointer(out + count).storeBytes(
                of: trailer.littleEndian, toByteOffset: 0, as: UInt64.self)
            initialized = count + trailerSize
        }
    }

    /// The key to seek to for the newest version of `userKey` visible at `sequence`.
    /// `ValueKind.value` is the highest kind, so it sorts first among equal sequences.
    public static func lookupKey(_ userKey: [UInt8], _ sequence: SequenceNumber) -> [UInt8] {
        make(userKey, sequence, .value)
    }

    @inline(__always)
    public static func userKey(_ internalKey: [UInt8]) -> ArraySlice<UInt8> {
        internalKey[internalKey.startIndex..<(internalKey.endIndex - trailerSize)]
    }

    @inline(__always)
    public static func trailer(_ internalKey: [UInt8]) -> UInt64 {
        internalKey.loadFixed64(at: internalKey.count - trailerSize)
    }

    @inline(__always)
    public static func sequence(_ internalKey: [UInt8]) -> SequenceNumber {
        trailer(internalKey) >> 8
    }

    /// nil when the kind byte is not a known kind (corruption).
    @inline(__always)
    public static func kind(_ internalKey: [UInt8]) -> ValueKind? {
        ValueKind(rawValue: UInt8(truncatingIfNeeded: trailer(internalKey)))
    }

    /// Whether `key` is long enough to be an internal key with a known kind.
    public static func isWellFormed(_ key: [UInt8]) -> Bool {
        key.count >= trailerSize && kind(key) != nil
    }

    /// Three-way comparison of two internal keys.
    @inline(__always)
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let r = compareUserKeys(a, a.count - trailerSize, b, b.count - trailerSize)
        if r != 0 { return r }
        let ta = trailer(a)
        let tb = trailer(b)
        return ta > tb ? -1 : (ta < tb ? 1 : 0)
    }

    /// Bytewise comparison of the first `aCount`/`bCount` bytes.
    @inline(__always)
    public static func compareUserKeys(_ a: [UInt8], _ aCount: Int, _ b: [UInt8], _ bCount: Int) -> Int {
        let n = min(aCount, bCount)
        let r = a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
            }
        }
        if r != 0 { return r < 0 ? -1 : 1 }
        return aCount < bCount ? -1 : (aCount > bCount ? 1 : 0)
    }
}

/// Bytewise three-way comparison of user keys.
@inline(__always)
public func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
    InternalKey.compareUserKeys(a, a.count, b, b.count)
}

@inline(__always)
public func compareBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
    let n = min(a.count, b.count)
    let r = a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in
            n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
        }
    }
    if r != 0 { return r < 0 ? -1 : 1 }
    return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
}
