import Foundation
import Testing

@testable import OsmanthusStorage

/// One record as `forEach` reports it, copied out.
private struct Op: Equatable {
    var kind: ValueKind
    var key: [UInt8]
    var value: [UInt8]
}

private func ops(_ batch: WriteBatch) -> [Op] {
    var out: [Op] = []
    batch.forEach { out.append(Op(kind: $0, key: Array($1), value: Array($2))) }
    return out
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

struct WriteBatchTests {
    @Test func emptyBatchIsJustTheHeader() {
        let batch = WriteBatch()
        #expect(batch.count == 0)
        #expect(batch.sequence == 0)
        #expect(batch.encoded == [UInt8](repeating: 0, count: 12))
        #expect(batch.byteSize == 12)
        #expect(ops(batch).isEmpty)
    }

    @Test func putsAndDeletesComeBackInOrder() {
        var batch = WriteBatch()
        batch.put(bytes("a"), bytes("1"))
        batch.delete(bytes("b"))
        batch.put(bytes("a"), [])
        batch.put([], bytes("empty key"))
        #expect(batch.count == 4)
        #expect(
            ops(batch) == [
                Op(kind: .value, key: bytes("a"), value: bytes("1")),
                Op(kind: .deletion, key: bytes("b"), value: []),
                Op(kind: .value, key: bytes("a"), value: []),
                Op(kind: .value, key: [], value: bytes("empty key")),
            ])
    }

    /// The example of SPEC.md §5.
    @Test func encodingIsHeaderThenKindKeyValue() {
        var batch = WriteBatch()
        batch.sequence = 100
        batch.put(bytes("k"), bytes("vv"))
        batch.delete(bytes("d"))
        #expect(
            batch.encoded == [
                0x64, 0, 0, 0, 0, 0, 0, 0,  // sequence
                2, 0, 0, 0,  // count
                1, 1, 0x6B, 2, 0x76, 0x76,  // value "k" -> "vv"
                0, 1, 0x64,  // deletion "d"
            ])
        #expect(batch.byteSize == batch.encoded.count)
    }

    @Test func sequenceIsLittleEndianInTheHeader() {
        var batch = WriteBatch()
        batch.sequence = 0x0102_0304_0506_0708
        #expect(Array(batch.encoded.prefix(8)) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(batch.sequence == 0x0102_0304_0506_0708)
    }

    @Test func sequenceCanBeSetAfterRecordsAreAdded() {
        var batch = WriteBatch()
        batch.put([1], [2])
        batch.sequence = 77
        #expect(batch.sequence == 77)
        #expect(batch.count == 1)
        #expect(ops(batch) == [Op(kind: .value, key: [1], value: [2])])
    }

    @Test func appendConcatenatesRecordsAndAddsCounts() {
        var first = WriteBatch()
        first.sequence = 10
        first.put([1], [1])
        var second = WriteBatch()
        second.sequence = 99
        second.delete([2])
        second.put([3], [3, 3])
        first.append(second)
        #expect(first.count == 3)
        #expect(first.sequence == 10)
        #expect(first.byteSize == 12 + 5 + 3 + 6)
        #expect(
            ops(first) == [
                Op(kind: .value, key: [1], value: [1]),
                Op(kind: .deletion, key: [2], value: []),
                Op(kind: .value, key: [3], value: [3, 3]),
            ])
        first.append(WriteBatch())
        #expect(first.count == 3)
    }

    @Test func clearRemovesRecordsAndSequence() {
        var batch = WriteBatch()
        batch.sequence = 5
        batch.put([1], [2])
        batch.clear()
        #expect(batch.count == 0)
        #expect(batch.sequence == 0)
        #expect(batch.encoded == WriteBatch().encoded)
        batch.delete([4])
        #expect(ops(batch) == [Op(kind: .deletion, key: [4], value: [])])
    }

    @Test func longKeysAndValuesUseMultiByteLengths() throws {
        var batch = WriteBatch()
        let key = [UInt8](repeating: 7, count: 200)
        let value = [UInt8](repeating: 9, count: 70_000)
        batch.put(key, value)
        #expect(batch.byteSize == 12 + 1 + 2 + 200 + 3 + 70_000)
        let decoded = try WriteBatch(decoding: batch.encoded)
        #expect(ops(decoded) == [Op(kind: .value, key: key, value: value)])
    }

    @Test func randomBatchesRoundTrip() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        for _ in 0..<50 {
            var batch = WriteBatch()
            batch.sequence = rng.next() >> 8
            var expected: [Op] = []
            for _ in 0..<Int(rng.next() % 40) {
                let key = (0..<Int(rng.next() % 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if rng.next() % 3 == 0 {
                    batch.delete(key)
                    expected.append(Op(kind: .deletion, key: key, value: []))
                } else {
                    let value = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    batch.put(key, value)
                    expected.append(Op(kind: .value, key: key, value: value))
                }
            }
            let decoded = try WriteBatch(decoding: batch.encoded)
            #expect(ops(decoded) == expected, "seed \(seed)")
            #expect(decoded.count == expected.count, "seed \(seed)")
            #expect(decoded.sequence == batch.sequence, "seed \(seed)")
            #expect(decoded.encoded == batch.encoded, "seed \(seed)")
        }
    }

    // MARK: Spliced records

    /// The example of SPEC.md §5: a document's put and a change record spliced from it.
    @Test func splicedRecordIsKeySourceAndHeadOnly() {
        var batch = WriteBatch()
        batch.put(bytes("d"), bytes("DOC"))
        bytes("h:").withUnsafeBytes { batch.putStampedSplicingPrevious(0x20, head: $0) }
        batch.sequence = 7
        #expect(
            batch.encoded == [
                7, 0, 0, 0, 0, 0, 0, 0,  // sequence
                2, 0, 0, 0,  // count
                1, 1, 0x64, 3, 0x44, 0x4F, 0x43,  // value "d" -> "DOC"
                2, 9, 0x20, 0, 0, 0, 0, 0, 0, 0, 8, 1, 2, 0x68, 0x3A,  // spliced, source 1, head "h:"
            ])
        #expect(
            ops(batch) == [
                Op(kind: .value, key: bytes("d"), value: bytes("DOC")),
                Op(kind: .value, key: [0x20, 0, 0, 0, 0, 0, 0, 0, 8], value: bytes("h:DOC")),
            ])
    }

    @Test func splicingAfterADeletionIsRefused() async {
        await #expect(processExitsWith: .failure) {
            var batch = WriteBatch()
            batch.delete([1])
            [UInt8]().withUnsafeBytes { batch.putStampedSplicingPrevious(0x20, head: $0) }
        }
    }

    /// Batches holding spliced records keep their meaning when appended into a group's record
    /// (sources count back, so they survive the shift), decode to the same records, and
    /// `forEachRaw` hands the value as head and source.
    @Test func randomSplicedBatchesRoundTripThroughAppend() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        var group = WriteBatch()
        var expected: [Op] = []
        var stamped: [Bool] = []
        for _ in 0..<30 {
            var batch = WriteBatch()
            var mine: [Op] = []
            for _ in 0..<Int(rng.next() % 8) {
                let key = (0..<Int(1 + rng.next() % 10)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                switch rng.next() % 3 {
                case 0:
                    batch.delete(key)
                    mine.append(Op(kind: .deletion, key: key, value: []))
                default:
                    let value = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    batch.put(key, value)
                    mine.append(Op(kind: .value, key: key, value: value))
                    if rng.next() % 2 == 0 {
                        let head = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                        head.withUnsafeBytes { batch.putStampedSplicingPrevious(0x20, head: $0) }
                        mine.append(Op(kind: .value, key: [], value: head + value))  // [] marks it stamped
                    }
                }
            }
            let decoded = try WriteBatch(decoding: batch.encoded)
            #expect(ops(decoded).map(\.value) == mine.map(\.value), "seed \(seed)")
            group.append(batch)
            expected += mine
            stamped += mine.map { $0.key.isEmpty }
        }
        group.sequence = 1000
        let decoded = try WriteBatch(decoding: group.encoded)
        #expect(decoded.count == expected.count, "seed \(seed)")
        let got = ops(decoded)
        #expect(got.map(\.value) == expected.map(\.value), "seed \(seed)")
        #expect(got.map(\.kind) == expected.map(\.kind), "seed \(seed)")
        // Unstamped keys come back as written; stamped ones are prefix ‖ their sequence.
        for (i, (g, e)) in zip(got, expected).enumerated() {
            if stamped[i] {
                #expect(g.key == [0x20] + withUnsafeBytes(of: (UInt64(1000 + i)).bigEndian) { Array($0) }, "seed \(seed)")
            } else {
                #expect(g.key == e.key, "seed \(seed)")
            }
        }
        var raw: [[UInt8]] = []
        decoded.forEachRaw { _, _, head, value in raw.append(Array(head) + Array(value)) }
        #expect(raw == expected.map(\.value), "seed \(seed)")
    }

    /// `spliced` below: put "a" → "vv", delete "b", then a spliced record "d" → "h" ‖ the value
    /// of the record `source` back.
    private func spliced(source: UInt8) -> [UInt8] {
        [9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 1, 0x61, 2, 0x76, 0x76, 0, 1, 0x62, 2, 1, 0x64, source, 1, 0x68]
    }

    @Test func splicedRecordFromFurtherBackDecodes() throws {
        let batch = try WriteBatch(decoding: spliced(source: 2))
        #expect(ops(batch).last == Op(kind: .value, key: bytes("d"), value: bytes("hvv")))
    }

    @Test func splicedSourceZeroIsCorruption() { expectCorruption(spliced(source: 0)) }

    @Test func splicedSourceBeforeTheBatchIsCorruption() { expectCorruption(spliced(source: 3)) }

    @Test func splicedSourceThatIsADeletionIsCorruption() { expectCorruption(spliced(source: 1)) }

    @Test func splicedSourceThatIsSplicedIsCorruption() {
        // A fourth record spliced from the third (itself spliced).
        var b = spliced(source: 2)
        b[8] = 4
        b += [2, 1, 0x65, 1, 0]
        expectCorruption(b)
    }

    @Test func everyTruncationOfASplicedBatchIsCorruption() {
        let full = spliced(source: 2)
        for length in 0..<full.count {
            expectCorruption(Array(full.prefix(length)))
        }
    }

    @Test func hugeSplicedSourceIsCorruption() {
        var b = spliced(source: 0x80)
        b.removeLast(2)
        b += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 1, 0x68]
        expectCorruption(b)
    }

    // MARK: Corruption

    private func expectCorruption(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: StorageError.self, sourceLocation: sourceLocation) {
            _ = try WriteBatch(decoding: bytes, file: "000009.log", offset: 4242)
        }
        #expect(error?.code == .corruption, sourceLocation: sourceLocation)
        #expect(error?.file == "000009.log", sourceLocation: sourceLocation)
        #expect(error?.offset == 4242, sourceLocation: sourceLocation)
    }

    private var sample: [UInt8] {
        var batch = WriteBatch()
        batch.sequence = 3
        batch.put(bytes("key"), bytes("value"))
        batch.delete(bytes("gone"))
        return batch.encoded
    }

    @Test func shortHeaderIsCorruption() {
        expectCorruption([])
        expectCorruption([UInt8](repeating: 0, count: 11))
    }

    @Test func countLargerThanTheRecordsIsCorruption() {
        var b = sample
        b[8] = 3
        expectCorruption(b)
    }

    @Test func countSmallerThanTheRecordsIsCorruption() {
        var b = sample
        b[8] = 1
        expectCorruption(b)
    }

    @Test func unknownKindIsCorruption() {
        var b = sample
        b[12] = 3
        expectCorruption(b)
    }

    @Test func lengthPastTheEndIsCorruption() {
        var b = sample
        b[13] = 100  // key length
        expectCorruption(b)
    }

    @Test func overlongVarintIsCorruption() {
        expectCorruption([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 11))
    }

    @Test func sequenceBeyondFiftySixBitsIsCorruption() {
        var b = sample
        b[7] = 0x01
        expectCorruption(b)
        var last = WriteBatch()
        last.sequence = maxSequenceNumber
        last.put([1], [1])
        #expect(throws: Never.self) { _ = try WriteBatch(decoding: last.encoded) }
        last.put([2], [2])
        expectCorruption(last.encoded)
    }

    @Test func everyTruncationIsCorruption() {
        let full = sample
        for length in 0..<full.count {
            expectCorruption(Array(full.prefix(length)))
        }
    }

    @Test func corruptionWithoutAFileNamesNone() {
        let error = #expect(throws: StorageError.self) { _ = try WriteBatch(decoding: [1, 2, 3]) }
        #expect(error?.code == .corruption)
        #expect(error?.file == nil)
    }

    // MARK: Golden file

    /// `Golden/writebatch-v1.bin`.
    static var goldenBatch: WriteBatch {
        var batch = WriteBatch()
        batch.sequence = 0x01_0203_0405
        batch.put(bytes("apple"), bytes("red"))
        batch.delete(bytes("banana"))
        batch.put(bytes("cherry"), [UInt8](repeating: 0x63, count: 200))
        batch.put(bytes("date"), [])
        return batch
    }

    @Test func goldenBatchDecodesToItsRecords() throws {
        let golden = try GoldenFiles.bytes("writebatch-v1.bin")
        let batch = try WriteBatch(decoding: golden, file: "writebatch-v1.bin")
        #expect(batch.sequence == 0x01_0203_0405)
        #expect(batch.count == 4)
        #expect(
            ops(batch) == [
                Op(kind: .value, key: bytes("apple"), value: bytes("red")),
                Op(kind: .deletion, key: bytes("banana"), value: []),
                Op(kind: .value, key: bytes("cherry"), value: [UInt8](repeating: 0x63, count: 200)),
                Op(kind: .value, key: bytes("date"), value: []),
            ])
        #expect(golden.count == 12 + 11 + 8 + 210 + 7)
        #expect(Array(golden[0..<12]) == [5, 4, 3, 2, 1, 0, 0, 0, 4, 0, 0, 0])
        // "cherry"'s 200-byte value: a two-byte varint length.
        #expect(Array(golden[31..<41]) == [1, 6, 0x63, 0x68, 0x65, 0x72, 0x72, 0x79, 0xC8, 0x01])
    }

    /// `Golden/writebatch-v2.bin`, written by `Tools/golden/writebatch-v2.py` from SPEC.md §5.
    @Test func goldenSplicedBatchDecodesToItsRecords() throws {
        let golden = try GoldenFiles.bytes("writebatch-v2.bin")
        let batch = try WriteBatch(decoding: golden, file: "writebatch-v2.bin")
        #expect(batch.sequence == 42)
        #expect(golden.count == 56)
        #expect(
            ops(batch) == [
                Op(kind: .value, key: bytes("copy"), value: bytes("{doc}")),
                Op(kind: .value, key: [0x20, 0, 0, 0, 0, 0, 0, 0, 0x2B], value: bytes("ins:{doc}")),
                Op(kind: .deletion, key: bytes("gone"), value: []),
                Op(kind: .value, key: bytes("again"), value: bytes("{doc}")),
            ])
        // Its first two records are what the encoder writes for a put and a record spliced from it.
        var encoder = WriteBatch()
        encoder.put(bytes("copy"), bytes("{doc}"))
        bytes("ins:").withUnsafeBytes { encoder.putStampedSplicingPrevious(0x20, head: $0) }
        encoder.sequence = 42
        #expect(Array(encoder.encoded[12...]) == Array(golden[12..<41]))
    }

    @Test func encoderReproducesTheGoldenBatch() throws {
        let encoded = Self.goldenBatch.encoded
        #expect(encoded == (try GoldenFiles.check("writebatch-v1.bin", encoded: encoded)))
    }
}
