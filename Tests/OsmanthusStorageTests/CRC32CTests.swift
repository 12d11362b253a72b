import CCRC32C
import Testing

@testable import OsmanthusStorage

struct CRC32CTests {
    // Standard check values (RFC 3720 B.4 and the usual "123456789" check).
    @Test func standardTestVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    @Test func softwareAndHardwareAgreeOnEveryLengthAndAlignment() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 63, 64, 100, 1000, 4000] where start + length <= raw.count {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    let a = osm_crc32c_extend(0, slice.baseAddress, slice.count)
                    let b = osm_crc32c_extend_software(0, slice.baseAddress, slice.count)
                    #expect(a == b, "start \(start) length \(length)")
                }
            }
        }
    }

    @Test func extendingInPiecesEqualsWhole() {
        let data = Array("hello, osmanthus".utf8)
        let whole = CRC32C.checksum(data)
        let part = CRC32C.checksum(Array(data[5...]), extending: CRC32C.checksum(Array(data[..<5])))
        #expect(whole == part)
    }

    @Test func maskRoundTripsAndChangesTheValue() {
        let crc = CRC32C.checksum(Array("foo".utf8))
        #expect(CRC32C.mask(crc) != crc)
        #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
        #expect(CRC32C.unmask(CRC32C.mask(CRC32C.mask(crc))) == CRC32C.mask(crc))
    }
}
