import Testing

@testable import OsmanthusStorage

/// `Options.blockRestartInterval` reaches the tables a DB writes: every data block has a restart
/// point every that many entries (SPEC.md §7.2), and reads are the same whatever it is.
struct BlockRestartIntervalTests {
    /// The entry count and restart count of every data block of the one table in `/db`.
    private func dataBlockShapes(_ fs: MemFileSystem) throws -> [(entries: Int, restarts: Int)] {
        let tables = try fs.listDirectory("/db").filter { $0.hasSuffix(".sst") }
        #expect(tables.count == 1)
        let name = try #require(tables.first)
        let file = try fs.openReadable("/db/" + name)
        let table = try Table.open(file: file, fileNumber: 1, cache: nil)
        let index = table.indexBlockForIterators.makeIterator()
        var shapes: [(entries: Int, restarts: Int)] = []
        index.seekToFirst()
        while index.isValid {
            let block = try table.block(at: try table.dataHandle(at: index), fillCache: false)
            let it = block.makeIterator()
            var entries = 0
            it.seekToFirst()
            while it.isValid {
                entries += 1
                it.next()
            }
            shapes.append((entries, block.restartCount))
            index.next()
        }
        return shapes
    }

    @Test(arguments: [1, 3, 16])
    func everyDataBlockRestartsAtTheConfiguredInterval(interval: Int) throws {
        let fs = MemFileSystem()
        var options = smallOptions(fs, background: false)
        options.blockRestartInterval = interval
        options.compressionPerLevel = [.lz4]
        let db = try DB.open(at: "/db", options: options)
        for i in 0..<600 { try db.put(Array("key-\(100_000 + i)".utf8), Array("value \(i)".utf8)) }
        try db.flush()
        for i in stride(from: 0, to: 600, by: 7) {
            #expect(try db.get(Array("key-\(100_000 + i)".utf8)) == Array("value \(i)".utf8))
        }
        try db.close()
        let shapes = try dataBlockShapes(fs)
        #expect(shapes.count > 1)
        #expect(shapes.map(\.entries).reduce(0, +) == 600)
        for shape in shapes {
            #expect(shape.restarts == (shape.entries + interval - 1) / interval, "interval \(interval)")
        }
    }
}
