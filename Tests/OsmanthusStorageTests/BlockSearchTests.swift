import Glibc
import Testing

@testable import OsmanthusStorage

/// `Block.withFirstEntry` (the point search `Table.find` uses) must answer exactly as a
/// `BlockIterator` seek does, damaged blocks included.
struct BlockSearchTests {
    private func makeBlock(_ entries: [([UInt8], [UInt8])], restartInterval: Int) throws -> Block {
        var builder = BlockBuilder(restartInterval: restartInterval)
        for (key, value) in entries { builder.add(key, value) }
        return try Block(contents: builder.finish(), file: "search.sst", offset: 99)
    }

    /// The iterator's answer: (key, value), nil past the end, or the error.
    private func iteratorSeek(_ block: Block, _ target: [UInt8]) -> Result<([UInt8], [UInt8])?, StorageError> {
        let it = block.makeIterator()
        it.seek(target)
        if let error = it.error { return .failure(error) }
        return .success(it.isValid ? (it.key, it.value) : nil)
    }

    private func search(_ block: Block, _ target: [UInt8]) -> Result<([UInt8], [UInt8])?, StorageError> {
        do {
            let found = try target.withUnsafeBytes { t in
                try block.withFirstEntry(atOrAfter: t) { k, v in (Array(k), Array(v)) }
            }
            return .success(found)
        } catch let error as StorageError {
            return .failure(error)
        } catch {
            Issue.record("unexpected error \(error)")
            return .success(nil)
        }
    }

    private func agree(_ block: Block, _ target: [UInt8], _ note: String) {
        switch (iteratorSeek(block, target), search(block, target)) {
        case (.success(let a), .success(let b)):
            #expect(a?.0 == b?.0, "\(note)")
            #expect(a?.1 == b?.1, "\(note)")
        case (.failure(let a), .failure(let b)):
            #expect(a.code == b.code, "\(note)")
            #expect(a.message == b.message, "\(note)")
        case (let a, let b):
            Issue.record("\(note): iterator \(a), search \(b)")
        }
    }

    @Test(arguments: [1, 3, 16])
    func searchMatchesIteratorSeekOnRandomKeys(restartInterval: Int) throws {
        let seed: UInt64 = 0xB10C_5EA2 &+ UInt64(restartInterval)
        var rng = SplitMix64(seed: seed)
        var users = Set<[UInt8]>()
        while users.count < 300 { users.insert(rng.bytes(maxLength: 12, maxByte: 3)) }
        var keys: [[UInt8]] = []
        for user in users {
            for sequence in [UInt64(9), 5] { keys.append(InternalKey.make(user, sequence, .value)) }
        }
        keys.sort { InternalKey.compare($0, $1) < 0 }
        let entries = keys.enumerated().map { ($1, TableTestData.value($0, length: $0 % 7)) }
        let block = try makeBlock(entries, restartInterval: restartInterval)
        for key in keys { agree(block, key, "seed \(seed) exact key") }
        for _ in 0..<500 {
            let target = InternalKey.make(rng.bytes(maxLength: 13, maxByte: 3), rng.next() % 12, .value)
            agree(block, target, "seed \(seed) target \(target)")
        }
    }

    @Test func keysLongerThanTheStackBufferAreStillFound() throws {
        let long = [UInt8](repeating: 0x61, count: Block.searchKeyLimit + 50)
        let entries = (0..<40).map { i in (InternalKey.make(long + [UInt8(i)], 1, .value), [UInt8(i)]) }
        let block = try makeBlock(entries, restartInterval: 4)
        for (key, value) in entries {
            #expect(try search(block, key).get()?.1 == value)
        }
        #expect(try search(block, InternalKey.make(long + [200], 1, .value)).get() == nil)
    }

    @Test func everyDamagedByteGivesTheIteratorsAnswer() throws {
        var builder = BlockBuilder(restartInterval: 3)
        let entries = (0..<12).map { (TableTestData.ikey(TableTestData.userKey($0), 100), TableTestData.value($0)) }
        for (key, value) in entries { builder.add(key, value) }
        let good = builder.finish()
        for i in 0..<good.count {
            for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = good
                bytes[i] ^= pattern
                guard let block = try? Block(contents: bytes, file: "t.sst", offset: 0) else { continue }
                for probe in [0, 5, 7, 11] { agree(block, entries[probe].0, "byte \(i) ^ \(pattern), probe \(probe)") }
            }
        }
    }

    @Test func compareMemoryHasTheSignOfMemcmp() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<5000 {
            let n = Int(rng.next() % 80)
            var a = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next() % 3) }
            var b = a
            if n > 0 && rng.next() % 4 != 0 {
                let i = Int(rng.next() % UInt64(n))
                b[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 2 == 0 { swap(&a, &b) }
            let expected = n == 0 ? 0 : memcmp(a, b, n).signum()
            let actual = a.withUnsafeBytes { x in b.withUnsafeBytes { y in compareMemory(x.baseAddress!, y.baseAddress!, n) } }
            #expect(actual == Int(expected), "\(a) vs \(b)")
        }
    }
}
