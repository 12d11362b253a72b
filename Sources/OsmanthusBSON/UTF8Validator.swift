/// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above
/// U+10FFFF. NUL bytes are valid here; callers that forbid them check separately.
enum UTF8Validator {
    /// The offset of the first byte of the first invalid sequence in `buffer[start..<end]`, or
    /// nil if the range is valid.
    static func firstInvalid(in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        var i = start
        while i < end {
            // ASCII fast path, eight bytes at a time.
            while i + 8 <= end,
                buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                i += 8
            }
            guard i < end else { return nil }
            let lead = buffer[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: return i
            }
            guard i + length <= end else { return i }
            let second = buffer[i + 1]
            guard second >= low && second <= high else { return i }
            for k in 2..<length where buffer[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    static func isValid(_ buffer: UnsafeRawBufferPointer) -> Bool {
        firstInvalid(in: buffer, from: 0, to: buffer.count) == nil
    }
}
