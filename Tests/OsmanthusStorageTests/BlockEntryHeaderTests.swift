import Testing

@testable import OsmanthusStorage

/// `BlockEntryHeader.decode` (its one- and two-byte fast paths and the general varints) must
/// read exactly what a plain varint reader reads, stop at `end`, and refuse what it refuses.
struct BlockEntryHeaderTests {
    /// The reference: three LEB128 varints, each at most 5 bytes and < 2^32, within `end`.
    private func reference(_ bytes: [UInt8], end: Int) -> (header: (Int, Int, Int), next: Int)? {
        var p = 0
        var values: [Int] = []
        for _ in 0..<3 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            var done = false
            while p < end && shift <= 63 {
                let byte = bytes[p]
                p += 1
                if shift == 63 && byte > 1 { return nil }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    done = true
                    break
                }
                shift += 7
            }
            guard done, value <= UInt64(UInt32.max) else { return nil }
            values.append(Int(value))
        }
        return ((values[0], values[1], values[2]), p)
    }

    private func varint(_ value: Int, padTo width: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        var v = UInt64(value)
        repeat {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        } while v > 0
        // Non-canonical but valid: continue with zero groups up to `width` bytes.
        while out.count < width { out.append(0x80) }
        out[out.count - 1] &= 0x7F
        return out
    }

    private func decode(_ bytes: [UInt8], end: Int) -> (header: (Int, Int, Int), next: Int)? {
        bytes.withUnsafeBufferPointer { buffer -> (header: (Int, Int, Int), next: Int)? in
            guard let base = buffer.baseAddress else { return nil }
            var p = 0
            guard let h = BlockEntryHeader.decode(base, &p, end: end) else { return nil }
            return ((h.shared, h.unshared, h.valueLength), p)
        }
    }

    @Test func randomHeadersDecodeAsPlainVarintsAtEveryEnd() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        // Lengths around each varint width boundary, documents' two-byte values most of all.
        let edges = [0, 1, 127, 128, 129, 255, 16383, 16384, 16385, 2_097_151, 2_097_152, Int(UInt32.max)]
        func length() -> Int {
            switch rng.next() % 4 {
            case 0: edges[Int(rng.next() % UInt64(edges.count))]
            case 1: Int(rng.next() % 128)
            case 2: 128 + Int(rng.next() % (16384 - 128))
            default: Int(rng.next() % (UInt64(UInt32.max) + 1))
            }
        }
        for round in 0..<3000 {
            let fields = (0..<3).map { _ in length() }
            var bytes: [UInt8] = []
            for f in fields {
                let pad = rng.next() % 8 == 0 ? Int(rng.next() % 6) : 0
                bytes += varint(f, padTo: pad)
            }
            // Sometimes an overlong (6-byte) or over-32-bit varint, sometimes trailing bytes.
            if rng.next() % 16 == 0 { bytes[Int(rng.next() % UInt64(bytes.count))] |= 0x80 }
            bytes += (0..<Int(rng.next() % 4)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for end in 0...bytes.count {
                let want = reference(bytes, end: end)
                let got = decode(bytes, end: end)
                #expect(want?.header.0 == got?.header.0, "seed \(seed) round \(round) end \(end) \(bytes)")
                #expect(want?.header.1 == got?.header.1, "seed \(seed) round \(round) end \(end) \(bytes)")
                #expect(want?.header.2 == got?.header.2, "seed \(seed) round \(round) end \(end) \(bytes)")
                #expect(want?.next == got?.next, "seed \(seed) round \(round) end \(end) \(bytes)")
            }
        }
    }

    @Test func documentSizedValueLengthTakesTwoBytes() {
        // shared 5, unshared 12, value 200 = 0xC8 0x01.
        let bytes: [UInt8] = [5, 12, 0xC8, 0x01, 0xFF]
        let got = decode(bytes, end: bytes.count)
        #expect(got?.header.0 == 5 && got?.header.1 == 12 && got?.header.2 == 200)
        #expect(got?.next == 4)
        #expect(decode(bytes, end: 3) == nil)  // the value's second byte is past the end
    }
}
