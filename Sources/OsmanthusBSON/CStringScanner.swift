/// Finding the NUL that ends a cstring, a word at a time (keys are short: a loop beats a
/// `memchr` call).
enum CStringScanner {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The offset of the first NUL in `buffer[start..<end]`, or nil; `sawNonASCII` tells whether
    /// any byte before it was ≥ 0x80 (so UTF-8 needs checking).
    @inline(__always)
    static func findNUL(in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> (
        nul: Int, sawNonASCII: Bool
    )? {
        var i = start
        var nonASCII = false
        while i + 8 <= end {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let hasZero = (word &- ones) & ~word & highs
            if hasZero != 0 {
                let nul = i + hasZero.trailingZeroBitCount / 8
                // Bytes before the first zero are exact; check their high bits.
                let before = hasZero.trailingZeroBitCount / 8
                if before > 0 && word & (highs >> UInt64(64 - before * 8)) != 0 { nonASCII = true }
                return (nul, nonASCII)
            }
            if word & highs != 0 { nonASCII = true }
            i += 8
        }
        while i < end {
            let byte = buffer[i]
            if byte == 0 { return (i, nonASCII) }
            if byte >= 0x80 { nonASCII = true }
            i += 1
        }
        return nil
    }
}
