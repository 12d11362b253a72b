import OsmanthusBSON
import OsmanthusStorage
import Testing

@testable import Osmanthus

struct ChangeLogSegmentTests {
    /// The worked example of SPEC.md §14.9, byte for byte (written out by hand from the grammar).
    @Test func encodesTheSpecExampleByteForByte() throws {
        let segment = ChangeLogSegment(
            from: 5, through: 7, archivedAtMillis: 1_700_000_000_123,
            records: [.init(sequence: 6, value: [0x05, 0, 0, 0, 0])])
        let body: [UInt8] = [
            0x4f, 0x53, 0x4d, 0x43, 0x4c, 0x53, 0x47, 0x31,  // "OSMCLSG1"
            0x05, 0, 0, 0, 0, 0, 0, 0,  // from
            0x07, 0, 0, 0, 0, 0, 0, 0,  // through
            0x7b, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0, 0,  // archivedAtMillis
            0x01, 0, 0, 0,  // count
            0x06, 0, 0, 0, 0, 0, 0, 0, 0x05, 0, 0, 0,  // sequence, length
            0x05, 0, 0, 0, 0,  // value: {}
        ]
        let bytes = segment.encoded()
        #expect(Array(bytes.dropLast(4)) == body)
        var crc: [UInt8] = []
        crc.appendFixed32(CRC32C.mask(CRC32C.checksum(body)))
        #expect(Array(bytes.suffix(4)) == crc)
        #expect(try ChangeLogSegment(decoding: bytes, file: "x.seg") == segment)
        #expect(ChangeLogSegment.fileName(from: 5, through: 7) == "00000000000000000005-00000000000000000007.seg")
        #expect(ChangeLogSegment.parseName("00000000000000000005-00000000000000000007.seg").map { [$0.0, $0.1] } == [5, 7])
        #expect(ChangeLogSegment.parseName("00000000000000000005-00000000000000000007.seg.tmp") == nil)
    }

    @Test func anyFlippedByteIsCorruptionNamingTheFile() throws {
        let segment = ChangeLogSegment(
            from: 1, through: 9, archivedAtMillis: 42,
            records: [.init(sequence: 3, value: (["a": .int32(1)] as Document).bytes)])
        let bytes = segment.encoded()
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x10
            #expect(throws: StorageError.self) { _ = try ChangeLogSegment(decoding: damaged, file: "s.seg") }
        }
        do {
            _ = try ChangeLogSegment(decoding: Array(bytes.dropLast()), file: "s.seg")
            Issue.record("a truncated segment decoded")
        } catch let e as StorageError {
            #expect(e.code == .corruption && e.file == "s.seg")
        }
    }

    @Test func updateDescriptionReplaysNestedArrayAndRemovedFields() throws {
        let before: Document = [
            "_id": .int32(1), "a": .document(["b": .int32(1), "c": .int32(2)]),
            "arr": .array([.int32(1), .int32(2), .int32(3)]), "gone": .string("x"),
            "short": .array([.int32(1), .int32(2), .int32(3)]),
        ]
        var after = before
        after.set("a", .document(["b": .int32(5), "c": .int32(2), "d": .string("new")]))
        after.set("arr", .array([.int32(1), .int32(9), .int32(3), .int32(4)]))
        _ = after.remove("gone")
        after.set("short", .array([.int32(1)]))
        after.set("top", .bool(true))
        // Each kind of change separately, so the diff uses element paths, not whole arrays.
        var step1 = before
        step1.set("arr", .array([.int32(1), .int32(9), .int32(3)]))
        for (from, to) in [(before, step1), (step1, after)] {
            let ud = UpdateDescription.diff(from, to)
            #expect(try UpdateDescription.apply(ud, to: from) == to)
        }
    }
}
