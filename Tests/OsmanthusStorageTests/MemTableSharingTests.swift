import Testing

@testable import OsmanthusStorage

/// `MemTable.insert(_:sequence:)`: a batch's records go in with their sequences, and a record
/// spliced from the record just before it is stored once (the earlier node shares its bytes).
struct MemTableSharingTests {
    /// Every entry in order, copied out.
    static func entries(_ mem: MemTable) -> [([UInt8], [UInt8])] {
        let it = mem.makeIterator()
        var out: [([UInt8], [UInt8])] = []
        it.seekToFirst()
        while it.isValid {
            out.append((it.key, it.value))
            it.next()
        }
        return out
    }

    /// The same records one by one, values expanded (`forEach`), nothing shared.
    static func unshared(_ batch: WriteBatch, sequence: SequenceNumber) -> MemTable {
        let mem = MemTable()
        var seq = sequence
        batch.forEach { kind, key, value in
            mem.add(seq, kind, key, value)
            seq += 1
        }
        return mem
    }

    @Test func aSplicedRecordAndItsSourceAreStoredOnce() {
        let doc = (0..<2000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let head = [UInt8]("head".utf8)
        var batch = WriteBatch()
        batch.put([0x10, 1], doc)
        head.withUnsafeBytes { batch.putStampedSplicingPrevious(0x20, head: $0) }
        batch.sequence = 10
        let mem = MemTable()
        let bytes = mem.insert(batch, sequence: 10)
        #expect(bytes == UInt64(2 + 2000 + 9 + 4 + 2000))
        #expect(mem.entryCount == 2)
        #expect(mem.get([0x10, 1], sequence: 10) == .found(doc))
        #expect(mem.get([0x20, 0, 0, 0, 0, 0, 0, 0, 11], sequence: 11) == .found(head + doc))
        let plain = Self.unshared(batch, sequence: 10)
        let got = Self.entries(mem)
        let want = Self.entries(plain)
        #expect(got.map(\.0) == want.map(\.0))
        #expect(got.map(\.1) == want.map(\.1))
        // The document's 2,000 bytes are in the arena once, not twice.
        #expect(plain.approximateMemoryUsage - mem.approximateMemoryUsage >= 2000 - 16)
    }

    /// Seeded batches of puts, deletes and spliced records (some from further back, some of an
    /// overwritten key) hold exactly what inserting their expanded records one by one holds.
    @Test func randomBatchesHoldWhatRecordByRecordInsertsHold() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        let mem = MemTable()
        let model = MemTable()
        var sequence: SequenceNumber = 1
        for _ in 0..<60 {
            var batch = WriteBatch()
            for _ in 0..<Int(rng.next() % 10) {
                // Few distinct keys, so the same key recurs within and across batches.
                let key = [UInt8(rng.next() % 4), UInt8(rng.next() % 8)]
                switch rng.next() % 4 {
                case 0: batch.delete(key)
                case 1: batch.put(key, [])
                default:
                    batch.put(key, bytes(1 + Int(rng.next() % 200)))
                    if rng.next() % 2 == 0 {
                        bytes(Int(rng.next() % 50)).withUnsafeBytes { batch.putStampedSplicingPrevious(0x20, head: $0) }
                    }
                }
            }
            batch.sequence = sequence  // stamps the spliced records' keys
            // Half the batches go through their encoding (as recovery reads them).
            let applied = rng.next() % 2 == 0 ? batch : try WriteBatch(decoding: batch.encoded)
            _ = mem.insert(applied, sequence: sequence)
            var seq = sequence
            applied.forEach { kind, key, value in
                model.add(seq, kind, key, value)
                seq += 1
            }
            sequence += SequenceNumber(max(1, batch.count))
        }
        let got = Self.entries(mem)
        let want = Self.entries(model)
        #expect(got.count == want.count, "seed \(seed)")
        #expect(got.map(\.0) == want.map(\.0), "seed \(seed)")
        #expect(got.map(\.1) == want.map(\.1), "seed \(seed)")
        #expect(mem.entryCount == model.entryCount, "seed \(seed)")
        // The key filter holds every key a batch inserted, spliced records and their sources too.
        for (internalKey, _) in got {
            #expect(mem.mayContain(Array(internalKey.dropLast(InternalKey.trailerSize))), "seed \(seed)")
        }
    }
}
