import OsmanthusBSON

/// A seeded random number generator, so a failing randomized test can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A short string, sometimes non-ASCII.
    mutating func string(maxLength: Int = 12) -> String {
        let alphabet = Array("abcxyz_.$09 éß中")
        return String((0..<Int.random(in: 0...maxLength, using: &self)).map { _ in alphabet.randomElement(using: &self) ?? "a" })
    }

    /// A scalar or (to `depth`) nested BSON value.
    mutating func value(depth: Int = 2) -> BSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 9 : 7), using: &self) {
        case 0: return .int32(Int32.random(in: .min ... .max, using: &self))
        case 1: return .int64(Int64.random(in: .min ... .max, using: &self))
        case 2: return .double(Double.random(in: -1e6...1e6, using: &self))
        case 3: return .string(string())
        case 4: return .bool(Bool.random(using: &self))
        case 5: return .null
        case 6: return .string(string(maxLength: 40))
        case 7: return .document(document(depth: depth - 1))
        default: return .array((0..<Int.random(in: 0...3, using: &self)).map { _ in value(depth: depth - 1) })
        }
    }

    /// A document of up to `maxFields` fields with random keys and values.
    mutating func document(maxFields: Int = 5, depth: Int = 2) -> Document {
        var document = Document()
        for _ in 0..<Int.random(in: 0...maxFields, using: &self) {
            document.append(string(maxLength: 8), value(depth: depth))
        }
        return document
    }
}
