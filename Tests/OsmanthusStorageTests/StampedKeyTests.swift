import Testing

@testable import OsmanthusStorage

/// `WriteBatch.putStamped`: keys completed with their record's commit sequence.
struct StampedKeyTests {
    private func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    @Test func settingTheSequenceStampsEachRecordWithItsOwn() {
        var batch = WriteBatch()
        batch.put([1], [9])
        batch.putStamped([0x20], [7])
        batch.delete([2])
        batch.putStamped([0x20, 0x01], [])
        batch.sequence = 0x0102_0304_0506
        var stamped: [(ArraySlice<UInt8>, UInt64)] = []
        var index: UInt64 = 0
        batch.forEach { _, key, _ in
            if key.first == 0x20 { stamped.append((key, index)) }
            index += 1
        }
        #expect(stamped.count == 2)
        for (key, i) in stamped {
            #expect(key.count >= 9)
            #expect(bigEndian(key.suffix(8)) == 0x0102_0304_0506 + i)
        }
        #expect(batch.stampedCount == 2)
    }

    @Test func appendKeepsStampsOfBothBatches() throws {
        var a = WriteBatch()
        a.putStamped([0xAA], [1])
        var b = WriteBatch()
        b.put([5], [5])
        b.putStamped([0xBB], [2])
        a.append(b)
        a.sequence = 100
        var keys: [[UInt8]] = []
        a.forEach { _, key, _ in keys.append(Array(key)) }
        #expect(keys.count == 3)
        #expect(bigEndian(keys[0][1...]) == 100)
        #expect(keys[1] == [5])
        #expect(bigEndian(keys[2][1...]) == 102)
        // What the WAL stores decodes to the same finished keys.
        let decoded = try WriteBatch(decoding: a.encoded)
        var again: [[UInt8]] = []
        decoded.forEach { _, key, _ in again.append(Array(key)) }
        #expect(again == keys)
    }

    /// The spliced form (`putStampedSplicingPrevious`: head ‖ the previous put's value) reads
    /// back as the closure form's whole value, and any mix of stamped and plain records (the
    /// first stamp kept inline, the rest in a list) is stamped right after `append`, `clear` and
    /// reuse.
    @Test func splicedFormReadsAsTheClosureFormInAnyMix() throws {
        var rng = UInt64(0x57a4_9ed5)
        func next() -> UInt64 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return rng >> 33
        }
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
        var reused = WriteBatch()
        for round in 0..<100 {
            var a = WriteBatch()
            var b = WriteBatch()
            var model: [(stamped: Bool, key: [UInt8], value: [UInt8])] = []
            for _ in 0..<Int(next() % 6) {
                let key = bytes(1 + Int(next() % 5))
                let value = bytes(Int(next() % 300))  // values past 127 bytes: a two-byte varint
                a.put(key, value)
                b.put(key, value)
                model.append((false, key, value))
                if next() % 2 == 0 {
                    let prefix = UInt8(truncatingIfNeeded: next())
                    let head = bytes(Int(next() % 140))
                    a.putStamped([prefix], head + value)
                    head.withUnsafeBytes { b.putStampedSplicingPrevious(prefix, head: $0) }
                    model.append((true, [prefix], head + value))
                }
            }
            #expect(a.count == b.count, "round \(round)")
            // A spliced record is one byte (its source) longer than its head's plain record
            // without the document; the document is not in it.
            #expect(b.byteSize <= a.byteSize + model.filter(\.stamped).count, "round \(round)")
            #expect(b.stampedCount == model.filter(\.stamped).count, "round \(round)")
            // Half the rounds go through a reused batch (cleared, then appended to).
            if round % 2 == 1 {
                reused.clear()
                #expect(reused.stampedCount == 0)
                reused.append(b)
                b = reused
            }
            let first = UInt64(1 + next() % 1_000_000)
            b.sequence = first
            var index: UInt64 = 0
            let decoded = try WriteBatch(decoding: b.encoded)
            decoded.forEach { _, key, value in
                let m = model[Int(index)]
                if m.stamped {
                    #expect(Array(key) == m.key + (0..<8).map { UInt8(truncatingIfNeeded: (first + index) >> (56 - 8 * $0)) },
                        "round \(round)")
                } else {
                    #expect(Array(key) == m.key, "round \(round)")
                }
                #expect(Array(value) == m.value, "round \(round)")
                index += 1
            }
            #expect(index == UInt64(model.count))
            if round % 2 == 1 { reused = b }
        }
    }

    /// Concurrent writers: stamped keys are unique, and key order is commit order, which after a
    /// reopen (WAL replay) is unchanged.
    @Test func concurrentWritersGetDistinctOrderedStampsThatSurviveReopen() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let writers = 4
        let perWriter = 200
        do {
            let db = try DB.open(at: dir.path)
            try runConcurrently(writers) { w in
                for i in 0..<perWriter {
                    var batch = WriteBatch()
                    batch.put([0x01, UInt8(w), UInt8(i >> 8), UInt8(i & 0xFF)], [])
                    batch.putStamped([0x02], [UInt8(w), UInt8(i >> 8), UInt8(i & 0xFF)])
                    try db.write(batch)
                }
            }
            try db.close()
        }
        let db = try DB.open(at: dir.path)
        defer { try? db.close() }
        let it = db.makeIterator()
        it.seek([0x02])
        var seqs: [UInt64] = []
        var lastPerWriter = [Int](repeating: -1, count: writers)
        while it.isValid, it.key.first == 0x02 {
            seqs.append(bigEndian(it.key[1...]))
            let v = it.value
            let w = Int(v[0])
            let i = Int(v[1]) << 8 | Int(v[2])
            // Each writer's records appear in the order it wrote them.
            #expect(i > lastPerWriter[w])
            lastPerWriter[w] = i
            it.next()
        }
        #expect(seqs.count == writers * perWriter)
        #expect(Set(seqs).count == seqs.count)
        #expect(seqs == seqs.sorted())
        #expect(lastPerWriter.allSatisfy { $0 == perWriter - 1 })
    }
}

