import Atomics
import Foundation
import Synchronization
import Testing

@testable import OsmanthusStorage

struct MemTableTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func entry(
        _ user: String, _ seq: SequenceNumber, _ kind: ValueKind, _ value: String
    ) -> IteratorWalk.Entry {
        (InternalKey.make(bytes(user), seq, kind), bytes(value))
    }

    private func sorted(_ entries: [IteratorWalk.Entry]) -> [IteratorWalk.Entry] {
        entries.sorted { InternalKey.compare($0.key, $1.key) < 0 }
    }

    private func same(_ a: [IteratorWalk.Entry], _ b: [IteratorWalk.Entry]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    @Test func emptyMemTableFindsNothing() {
        let mem = MemTable()
        #expect(mem.isEmpty)
        #expect(mem.entryCount == 0)
        #expect(mem.get(bytes("a"), sequence: maxSequenceNumber) == .absent)
        let it = mem.makeIterator()
        it.seekToFirst()
        #expect(!it.isValid)
        it.seekToLast()
        #expect(!it.isValid)
        it.seek(InternalKey.lookupKey(bytes("a"), 5))
        #expect(!it.isValid)
        #expect(it.error == nil)
    }

    @Test func getReturnsNewestVersionVisibleAtEachSnapshot() {
        let mem = MemTable()
        // Inserted out of sequence order on purpose: order comes from the keys.
        mem.add(5, .deletion, bytes("key"), [])
        mem.add(1, .value, bytes("key"), bytes("a"))
        mem.add(7, .value, bytes("key"), bytes("c"))
        mem.add(3, .value, bytes("key"), bytes("b"))
        let expected: [(SequenceNumber, MemTable.LookupResult)] = [
            (0, .absent), (1, .found(bytes("a"))), (2, .found(bytes("a"))), (3, .found(bytes("b"))),
            (4, .found(bytes("b"))), (5, .deleted), (6, .deleted), (7, .found(bytes("c"))),
            (maxSequenceNumber, .found(bytes("c"))),
        ]
        for (snapshot, result) in expected {
            #expect(mem.get(bytes("key"), sequence: snapshot) == result, "snapshot \(snapshot)")
        }
        #expect(mem.get(bytes("other"), sequence: maxSequenceNumber) == .absent)
        #expect(mem.entryCount == 4)
        #expect(!mem.isEmpty)
    }

    @Test func keysSharingAPrefixAreNotConfused() {
        let mem = MemTable()
        mem.add(1, .value, bytes("ab"), bytes("ab-value"))
        mem.add(2, .value, [], bytes("empty-key"))
        mem.add(3, .value, bytes("abcd"), bytes("abcd-value"))
        #expect(mem.get(bytes("a"), sequence: 10) == .absent)
        #expect(mem.get(bytes("abc"), sequence: 10) == .absent)
        #expect(mem.get(bytes("abcde"), sequence: 10) == .absent)
        #expect(mem.get(bytes("ab"), sequence: 10) == .found(bytes("ab-value")))
        #expect(mem.get(bytes("abcd"), sequence: 10) == .found(bytes("abcd-value")))
        #expect(mem.get([], sequence: 10) == .found(bytes("empty-key")))
        #expect(mem.get([], sequence: 1) == .absent)
    }

    @Test func sliceOverloadStoresOnlyTheSliceBytes() {
        let mem = MemTable()
        let record = bytes("xxKEYyyVALUEzz")
        mem.add(9, .value, record[2..<5], record[7..<12])
        #expect(mem.get(bytes("KEY"), sequence: 9) == .found(bytes("VALUE")))
        let it = mem.makeIterator()
        it.seekToFirst()
        #expect(it.key == InternalKey.make(bytes("KEY"), 9, .value))
        #expect(it.value == bytes("VALUE"))
    }

    @Test func iteratorWalksInternalKeyOrderForwardAndBackward() {
        let entries = [
            entry("b", 2, .value, "b2"), entry("a", 1, .value, "a1"), entry("c", 9, .deletion, ""),
            entry("b", 4, .deletion, ""), entry("a", 3, .value, "a3"), entry("bb", 5, .value, "bb5"),
            entry("b", 4, .value, "b4"),
        ]
        let mem = MemTable()
        for e in entries {
            mem.add(InternalKey.sequence(e.key), InternalKey.kind(e.key) ?? .value,
                Array(InternalKey.userKey(e.key)), e.value)
        }
        let reference = sorted(entries)
        // Newest first within a user key; for equal sequences the value sorts before the deletion.
        #expect(reference.map(\.value) == [bytes("a3"), bytes("a1"), bytes("b4"), [], bytes("b2"), bytes("bb5"), []])
        #expect(same(IteratorWalk.forwardKeys(mem.makeIterator()), reference))
        #expect(same(IteratorWalk.backwardKeys(mem.makeIterator()), reference.reversed()))
    }

    @Test func seekLandsOnFirstEntryAtOrAfterTarget() {
        let mem = MemTable()
        mem.add(10, .value, bytes("k"), bytes("k10"))
        mem.add(20, .value, bytes("k"), bytes("k20"))
        mem.add(15, .value, bytes("m"), bytes("m15"))
        let it = mem.makeIterator()
        // A snapshot between the versions lands on the older one.
        it.seek(InternalKey.lookupKey(bytes("k"), 15))
        #expect(it.isValid && it.value == bytes("k10"))
        it.seek(InternalKey.lookupKey(bytes("k"), 25))
        #expect(it.isValid && it.value == bytes("k20"))
        // Below every version of k: moves on to m.
        it.seek(InternalKey.lookupKey(bytes("k"), 5))
        #expect(it.isValid && it.value == bytes("m15"))
        it.seek(InternalKey.lookupKey(bytes("a"), 1))
        #expect(it.isValid && it.value == bytes("k20"))
        it.seek(InternalKey.lookupKey(bytes("z"), 1))
        #expect(!it.isValid)
        // prev from the first entry falls off the front.
        it.seekToFirst()
        it.prev()
        #expect(!it.isValid)
    }

    @Test func largeValuesRoundTripAndCountTowardMemoryUsage() {
        let mem = MemTable()
        var rng = SplitMix64(seed: 7)
        let big = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let medium = [UInt8](repeating: 0xAB, count: 300 << 10)
        mem.add(1, .value, bytes("small1"), bytes("s"))
        mem.add(2, .value, bytes("big"), big)
        mem.add(3, .value, bytes("medium"), medium)
        mem.add(4, .value, bytes("small2"), bytes("t"))
        // The big value needs a chunk of its own; the medium one may still fit the current chunk.
        let usage = mem.approximateMemoryUsage
        #expect(usage >= big.count + medium.count && usage <= big.count + medium.count + 3 * Arena.chunkSize)
        #expect(mem.get(bytes("big"), sequence: 9) == .found(big))
        #expect(mem.get(bytes("medium"), sequence: 9) == .found(medium))
        #expect(mem.get(bytes("small1"), sequence: 9) == .found(bytes("s")))
        #expect(mem.get(bytes("small2"), sequence: 9) == .found(bytes("t")))
        #expect(IteratorWalk.forwardKeys(mem.makeIterator()).map(\.value.count) == [big.count, medium.count, 1, 1])
    }

    @Test func memoryUsageAndEntryCountGrowWithInserts() {
        let mem = MemTable()
        // Chunks start small: an empty or tiny memtable must not look full to a small write buffer.
        #expect(mem.approximateMemoryUsage <= 8 << 10)
        mem.add(1, .value, bytes("first"), bytes("tiny"))
        #expect(mem.approximateMemoryUsage <= 8 << 10)
        var last = mem.approximateMemoryUsage
        for i in 0..<20_000 {
            mem.add(SequenceNumber(i + 2), .value, bytes("key\(i)"), [UInt8](repeating: 1, count: 100))
            let now = mem.approximateMemoryUsage
            #expect(now >= last)
            last = now
        }
        #expect(mem.entryCount == 20_001)
        // ~20,000 × (100 value + ~15 key + header + tower): at least 2 MB, allocated in 1 MiB chunks.
        #expect(last >= 2_000_000 && last < 8_000_000)
    }

    @Test func iteratorKeepsMemTableAlive() {
        weak var weakMem: MemTable?
        let it: InternalIterator
        do {
            let mem = MemTable()
            mem.add(1, .value, bytes("alive"), bytes("yes"))
            it = mem.makeIterator()
            weakMem = mem
        }
        #expect(weakMem != nil)
        it.seekToFirst()
        #expect(it.isValid && it.value == bytes("yes"))
    }

    /// The skiplist compares the first 8 bytes as one word: keys around that length, from an
    /// alphabet with the extreme bytes, must still order exactly as `InternalKey.compare` does.
    @Test func skipListCompareAgreesWithInternalKeyCompareAroundEightBytes() {
        let seed: UInt64 = 0x5EED_0008
        var rng = SplitMix64(seed: seed)
        let alphabet: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF]
        func key() -> [UInt8] {
            let length = Int.random(in: 5...13, using: &rng)
            let user = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            return InternalKey.make(user, SequenceNumber.random(in: 0...3, using: &rng), .value)
        }
        for _ in 0..<20_000 {
            let a = key()
            let b = Bool.random(using: &rng) ? key() : a
            let expected = InternalKey.compare(a, b).signum()
            let got = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in SkipList.compare(pa, pb) } }
            #expect(got == expected, "seed \(seed): \(a) vs \(b)")
        }
        // And a memtable of such keys iterates in the same order as a sorted reference.
        let mem = MemTable()
        var entries: [IteratorWalk.Entry] = []
        var seen = Set<[UInt8]>()
        for sequence in SequenceNumber(1)...3_000 {
            let user = Array(InternalKey.userKey(key()))
            guard seen.insert(user).inserted else { continue }
            mem.add(sequence, .value, user, [])
            entries.append((InternalKey.make(user, sequence, .value), []))
        }
        #expect(same(IteratorWalk.forwardKeys(mem.makeIterator()), sorted(entries)), "seed \(seed)")
    }

    @Test func manyRandomKeysMatchASortedReference() {
        let seed: UInt64 = 0x5EED_0001
        var rng = SplitMix64(seed: seed)
        let mem = MemTable()
        var entries: [IteratorWalk.Entry] = []
        var newest: [[UInt8]: [(SequenceNumber, ValueKind, [UInt8])]] = [:]
        // A small alphabet and short keys, so user keys repeat and share prefixes.
        for sequence in SequenceNumber(1)...20_000 {
            let userKey = rng.bytes(maxLength: 6, maxByte: 3)
            let kind: ValueKind = Int.random(in: 0..<5, using: &rng) == 0 ? .deletion : .value
            let value: [UInt8] = kind == .deletion ? [] : rng.bytes(maxLength: 20)
            mem.add(sequence, kind, userKey, value)
            entries.append((InternalKey.make(userKey, sequence, kind), value))
            newest[userKey, default: []].append((sequence, kind, value))
        }
        let reference = sorted(entries)
        #expect(same(IteratorWalk.forwardKeys(mem.makeIterator()), reference), "seed \(seed)")
        #expect(same(IteratorWalk.backwardKeys(mem.makeIterator()), reference.reversed()), "seed \(seed)")

        var probes = (0..<300).map { _ in entries[Int.random(in: 0..<entries.count, using: &rng)].key }
        probes += (0..<300).map { _ in
            let snapshot = SequenceNumber.random(in: 0...21_000, using: &rng)
            return InternalKey.lookupKey(rng.bytes(maxLength: 7, maxByte: 4), snapshot)
        }
        IteratorWalk.randomWalk(mem.makeIterator(), reference, probes: probes, steps: 3_000, using: &rng,
            context: "seed \(seed)")

        for _ in 0..<2_000 {
            let userKey = rng.bytes(maxLength: 6, maxByte: 3)
            let snapshot = SequenceNumber.random(in: 0...20_001, using: &rng)
            let visible = newest[userKey, default: []].last { $0.0 <= snapshot }
            let expected: MemTable.LookupResult =
                switch visible {
                case nil: .absent
                case let (_, kind, value)?: kind == .deletion ? .deleted : .found(value)
                }
            #expect(mem.get(userKey, sequence: snapshot) == expected, "seed \(seed) key \(userKey) at \(snapshot)")
        }
    }

    /// `get` answers keys below the smallest stored key without searching: checked against a
    /// model while the smallest key keeps falling (each insert may lower it) and around it
    /// (equal user keys, prefixes of it, keys one byte below it, the empty key).
    @Test func lookupsAroundTheSmallestKeyMatchAModelWhileItFalls() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        let mem = MemTable()
        var newest: [[UInt8]: [(SequenceNumber, ValueKind, [UInt8])]] = [:]
        func expected(_ key: [UInt8], _ snapshot: SequenceNumber) -> MemTable.LookupResult {
            switch newest[key, default: []].last(where: { $0.0 <= snapshot }) {
            case nil: .absent
            case let (_, kind, value)?: kind == .deletion ? .deleted : .found(value)
            }
        }
        var smallest: [UInt8]? = nil
        for sequence in SequenceNumber(1)...3_000 {
            // Mostly above a floor that falls slowly, so the smallest key changes now and then.
            let floor = UInt8(max(0, 6 - Int(sequence / 500)))
            var userKey = rng.bytes(maxLength: 4, maxByte: 3)
            userKey.insert(floor + UInt8.random(in: 0...2, using: &rng), at: 0)
            let kind: ValueKind = Int.random(in: 0..<6, using: &rng) == 0 ? .deletion : .value
            let value: [UInt8] = kind == .deletion ? [] : rng.bytes(maxLength: 8)
            mem.add(sequence, kind, userKey, value)
            newest[userKey, default: []].append((sequence, kind, value))
            if smallest.map({ compareBytes(userKey, $0) < 0 }) ?? true { smallest = userKey }
            guard let low = smallest else { continue }
            var probes: [[UInt8]] = [low, Array(low.dropLast()), [], userKey, rng.bytes(maxLength: 5, maxByte: 8)]
            if let last = low.last, last > 0 { probes.append(Array(low.dropLast()) + [last - 1, 9]) }
            probes.append(low + [0])
            for key in probes {
                let snapshot = SequenceNumber.random(in: 0...(sequence + 1), using: &rng)
                #expect(mem.get(key, sequence: snapshot) == expected(key, snapshot), "seed \(seed) key \(key) at \(snapshot)")
            }
        }
    }

    /// One writer inserts while two readers iterate and look up without a lock: every pass must be
    /// sorted, contain only whole entries that were inserted, and include everything the writer
    /// had announced before the pass began.
    @Test func concurrentReadersSeeSortedWholeEntriesWhileOneWriterInserts() {
        let total = 100_000
        let mem = MemTable()
        let announced = ManagedAtomic<Int>(0)
        let failures = Failures()
        let group = DispatchGroup()

        @Sendable func key(_ i: Int) -> [UInt8] {
            // An odd multiplier is a bijection on UInt64: distinct keys in scattered order.
            withUnsafeBytes(of: (UInt64(i) &* 0x9E37_79B9_7F4A_7C15).bigEndian) { Array($0) }
        }
        @Sendable func index(ofKey key: [UInt8]) -> Int? {
            guard key.count == 8 else { return nil }
            let scrambled = key.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let i = Int(truncatingIfNeeded: scrambled &* 0xF1DE_83E1_9937_733D)  // inverse multiplier
            return i >= 0 && i < total ? i : nil
        }
        @Sendable func value(_ i: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(i).littleEndian) { Array($0) } + key(i) }

        group.enter()
        Thread {
            for i in 0..<total {
                mem.add(SequenceNumber(i + 1), .value, key(i), value(i))
                if i % 128 == 127 || i == total - 1 { announced.store(i + 1, ordering: .releasing) }
            }
            group.leave()
        }.start()

        for reader in 0..<2 {
            group.enter()
            Thread {
                var rng = SplitMix64(seed: UInt64(reader))
                var lastCount = 0
                var passes = 0
                while true {
                    let before = announced.load(ordering: .acquiring)
                    let it = mem.makeIterator()
                    var count = 0
                    var previous: [UInt8]? = nil
                    it.seekToFirst()
                    while it.isValid {
                        let k = InternalKey.userKey(it.key)
                        if let previous, InternalKey.compare(previous, it.key) >= 0 {
                            failures.add("reader \(reader): out of order at entry \(count)")
                        }
                        guard let i = index(ofKey: Array(k)) else {
                            failures.add("reader \(reader): key never inserted \(Array(k))")
                            break
                        }
                        if it.value != value(i) || InternalKey.sequence(it.key) != SequenceNumber(i + 1) {
                            failures.add("reader \(reader): torn entry for key \(i)")
                        }
                        previous = it.key
                        count += 1
                        it.next()
                    }
                    if count < before || count < lastCount {
                        failures.add("reader \(reader): pass saw \(count), announced \(before), last \(lastCount)")
                    }
                    lastCount = count
                    passes += 1
                    if before > 0 {
                        for _ in 0..<200 {
                            let i = Int.random(in: 0..<before, using: &rng)
                            if mem.get(key(i), sequence: maxSequenceNumber) != .found(value(i)) {
                                failures.add("reader \(reader): announced key \(i) not found")
                            }
                        }
                    }
                    if before == total { break }
                    if failures.count > 0 { break }
                }
                if lastCount != total || passes < 1 { failures.add("reader \(reader): final pass saw \(lastCount)") }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(failures.messages.isEmpty, "\(failures.messages.prefix(5))")
        #expect(mem.entryCount == total)
    }
}

/// Problems seen on reader threads, reported by the test's own thread afterwards.
private final class Failures: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ message: String) { list.withLock { $0.append(message) } }
    var messages: [String] { list.withLock { $0 } }
    var count: Int { list.withLock { $0.count } }
}
