import Testing

@testable import OsmanthusStorage

struct MergingIteratorTests {
    private typealias Entry = IteratorWalk.Entry

    private func ikey(_ user: String, _ seq: SequenceNumber, _ kind: ValueKind = .value) -> [UInt8] {
        InternalKey.make(Array(user.utf8), seq, kind)
    }

    private func same(_ a: [Entry], _ b: [Entry]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Random children plus the merged reference: entries ordered by (key, child index). Some
    /// internal keys are put in two children on purpose; values name the child.
    private func randomChildren(_ count: Int, using rng: inout SplitMix64) -> (children: [[Entry]], merged: [Entry]) {
        var children = [[Entry]](repeating: [], count: count)
        var tagged: [(entry: Entry, child: Int)] = []
        var sequence: SequenceNumber = 1
        for _ in 0..<Int.random(in: 0...400, using: &rng) {
            let user = rng.bytes(maxLength: 3, maxByte: 3)
            let key = InternalKey.make(user, sequence, Bool.random(using: &rng) ? .value : .deletion)
            sequence += 1
            let copies = count > 1 && Int.random(in: 0..<8, using: &rng) == 0 ? 2 : 1
            var used = Set<Int>()
            while used.count < copies { used.insert(Int.random(in: 0..<count, using: &rng)) }
            for child in used {
                let entry = (key, [UInt8(child)] + Array("v\(sequence)".utf8))
                children[child].append(entry)
                tagged.append((entry, child))
            }
        }
        let byKey: ([Entry]) -> [Entry] = { $0.sorted { InternalKey.compare($0.key, $1.key) < 0 } }
        let merged = tagged.sorted {
            let order = InternalKey.compare($0.entry.key, $1.entry.key)
            return order < 0 || (order == 0 && $0.child < $1.child)
        }.map(\.entry)
        return (children.map(byKey), merged)
    }

    private func merge(_ children: [[Entry]]) -> MergingIterator {
        MergingIterator(children.map { VectorIterator($0) })
    }

    @Test func mergeOfNothingIsInvalid() {
        for it in [MergingIterator([]), merge([[], [], []])] {
            it.seekToFirst()
            #expect(!it.isValid)
            it.seekToLast()
            #expect(!it.isValid)
            it.seek(ikey("a", 1))
            #expect(!it.isValid)
            #expect(it.error == nil)
        }
    }

    @Test func randomChildrenMergeToTheSortedReference() {
        for count in [1, 2, 3, 5, 10, 24] {
            for round in 0..<4 {
                let seed = UInt64(count * 100 + round)
                var rng = SplitMix64(seed: seed)
                let (children, merged) = randomChildren(count, using: &rng)
                #expect(same(IteratorWalk.forwardKeys(merge(children)), merged), "seed \(seed)")
                #expect(same(IteratorWalk.backwardKeys(merge(children)), merged.reversed()), "seed \(seed)")
            }
        }
    }

    @Test func mixedNextAndPrevAndSeeksFollowTheReference() {
        for count in [2, 3, 7, 16] {
            for round in 0..<5 {
                let seed = UInt64(0xAB00 + count * 10 + round)
                var rng = SplitMix64(seed: seed)
                let (children, merged) = randomChildren(count, using: &rng)
                var probes = merged.map(\.key)
                probes += (0..<50).map { _ in
                    let snapshot = SequenceNumber.random(in: 0...500, using: &rng)
                    return InternalKey.lookupKey(rng.bytes(maxLength: 4, maxByte: 4), snapshot)
                }
                IteratorWalk.randomWalk(
                    merge(children), merged, probes: probes, steps: 2_000, using: &rng, context: "seed \(seed)")
            }
        }
    }

    @Test func directionSwitchesVisitEveryCopyOfADuplicatedKey() {
        let c = ikey("c", 5)
        let children: [[Entry]] = [
            [(ikey("a", 1), [0]), (c, [0])],
            [(c, [1]), (ikey("d", 2), [1])],
            [(c, [2])],
        ]
        // Positions are written user key + child: "c1" is child 1's copy of c.
        let script: [(move: (InternalIterator) -> Void, expected: String)] = [
            ({ $0.seekToFirst() }, "a0"), ({ $0.next() }, "c0"), ({ $0.next() }, "c1"),
            ({ $0.prev() }, "c0"), ({ $0.next() }, "c1"), ({ $0.next() }, "c2"), ({ $0.prev() }, "c1"),
            ({ $0.prev() }, "c0"), ({ $0.prev() }, "a0"), ({ $0.prev() }, "end"),
            ({ $0.seekToLast() }, "d1"), ({ $0.prev() }, "c2"), ({ $0.prev() }, "c1"), ({ $0.next() }, "c2"),
            ({ $0.next() }, "d1"), ({ $0.next() }, "end"),
            ({ $0.seek(c) }, "c0"), ({ $0.prev() }, "a0"), ({ $0.next() }, "c0"),
        ]
        let it = merge(children)
        for (step, (move, expected)) in script.enumerated() {
            move(it)
            let actual =
                it.isValid ? String(decoding: InternalKey.userKey(it.key), as: UTF8.self) + "\(it.value[0])" : "end"
            #expect(actual == expected, "step \(step)")
            if actual != expected { return }  // moving an invalid iterator is a precondition failure
        }
    }

    @Test func seekLandsOnTheSmallestEntryAtOrAfterTargetAcrossChildren() {
        let children: [[Entry]] = [
            [(ikey("b", 9), [0]), (ikey("f", 1), [0])],
            [(ikey("b", 3), [1]), (ikey("d", 4), [1])],
        ]
        let it = merge(children)
        it.seek(InternalKey.lookupKey(Array("b".utf8), 5))
        #expect(it.isValid && it.key == ikey("b", 3))
        it.seek(InternalKey.lookupKey(Array("c".utf8), 5))
        #expect(it.isValid && it.key == ikey("d", 4))
        it.prev()
        #expect(it.isValid && it.key == ikey("b", 3))
        it.seek(InternalKey.lookupKey(Array("g".utf8), 5))
        #expect(!it.isValid)
    }

    /// A failed child ends the merge: the entries it would have hidden are never shown.
    @Test func childErrorEndsTheMergeAndIsTheFirstChildsError() {
        let first = StorageError.corruption("bad block", file: "000007.sst", offset: 4096)
        let second = StorageError(.io, "read failed")
        let it = MergingIterator([
            VectorIterator([(ikey("a", 1), [])]),
            VectorIterator([], error: first),
            VectorIterator([], error: second),
        ])
        it.seekToFirst()
        #expect(!it.isValid)
        #expect(it.error?.code == .corruption && it.error?.offset == 4096)
        #expect(MergingIterator([VectorIterator([])]).error == nil)
    }

    @Test func mergesMemTablesNewestVersionFirst() {
        let older = MemTable()
        let newer = MemTable()
        older.add(1, .value, Array("k".utf8), Array("old".utf8))
        older.add(2, .value, Array("m".utf8), Array("m".utf8))
        newer.add(3, .deletion, Array("k".utf8), [])
        newer.add(4, .value, Array("a".utf8), Array("a".utf8))
        let merged = IteratorWalk.forwardKeys(MergingIterator([older.makeIterator(), newer.makeIterator()]))
        #expect(merged.map(\.key) == [ikey("a", 4), ikey("k", 3, .deletion), ikey("k", 1), ikey("m", 2)])
    }
}
