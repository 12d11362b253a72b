import Testing

@testable import OsmanthusStorage

/// The borrowing accessors (`withKey`/`withValue`) against the copying ones (`key`/`value`).
struct DBIteratorTests {
    @Test func borrowedKeyAndValueMatchCopiesInBothDirections() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try DB.open(at: dir.path, options: smallOptions(background: false))
        // Tables, a newer memtable, overwrites and deletes: the merge has several children.
        for i in 0..<600 { try db.put(Array(format5(i).utf8), Array("old\(i)".utf8)) }
        try db.flush()
        for i in stride(from: 0, to: 600, by: 3) { try db.put(Array(format5(i).utf8), Array("new\(i)".utf8)) }
        for i in stride(from: 1, to: 600, by: 5) { try db.delete(Array(format5(i).utf8)) }

        let it = db.makeIterator()
        var forward: [[UInt8]] = []
        it.seekToFirst()
        while it.isValid {
            #expect(it.withKey { Array($0) } == it.key)
            #expect(it.withValue { Array($0) } == it.value)
            forward.append(it.key)
            it.next()
        }
        var backward: [[UInt8]] = []
        it.seekToLast()
        while it.isValid {
            #expect(it.withKey { Array($0) } == it.key)
            #expect(it.withValue { Array($0) } == it.value)
            backward.append(it.key)
            it.prev()
        }
        #expect(it.error == nil)
        #expect(forward.count == 600 - 120)
        #expect(backward == forward.reversed())

        // A seek, then a change of direction, then forward again.
        it.seek(Array(format5(300).utf8))
        #expect(it.withKey { Array($0) } == Array(format5(300).utf8))
        #expect(it.withValue { Array($0) } == Array("new300".utf8))
        it.prev()
        #expect(it.withKey { Array($0) } == Array(format5(299).utf8))
        it.next()
        #expect(it.withKey { Array($0) } == Array(format5(300).utf8))
        try db.close()
    }
}
