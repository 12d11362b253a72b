// A small seeded generator, so both engines see the same documents and the same operations.

/// SplitMix64 (Steele, Lea, Flood 2014): fast, seedable, good enough for choosing keys.
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

    /// A uniform index in 0..<bound (the tiny modulo bias is irrelevant here).
    mutating func index(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

extension SplitMix64 {
    /// A uniform double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform integer in `range`.
    mutating func uniform(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + index(below: range.count)
    }
}
