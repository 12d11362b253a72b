import Glibc
import OsmanthusBSON
import OsmanthusStorage
import Synchronization
import Testing

@testable import Osmanthus

struct IndexBuildTests {
    /// Results through the index agree with a collection scan for every value of `v`.
    func expectIndexAgreesWithScan(_ c: Osmanthus.Collection, index: String, values: Range<Int>) throws {
        for v in values {
            let filter: Document = ["v": .int32(Int32(v))]
            let viaIndex = try c.find(filter, options: FindOptions(hint: .string(index))).all().map { "\($0["_id"] ?? .null)" }
            let viaScan = try c.find(filter, options: FindOptions(hint: ["$natural": 1])).all().map { "\($0["_id"] ?? .null)" }
            #expect(viaIndex.sorted() == viaScan.sorted(), "v = \(v)")
        }
    }

    @Test func buildOnAPopulatedCollectionSeesConcurrentWrites() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<3000).map { ["_id": .int32($0), "v": .int32($0 % 50)] })
        let stop = Atomic<Bool>(false)
        let writes = Atomic<Int>(0)
        try runConcurrently(2) { t in
            if t == 0 {
                defer { stop.store(true, ordering: .relaxed) }
                try c.createIndex(["v": 1])
                return
            }
            // Inserts, moves and deletes while the index builds.
            var i: Int32 = 0
            while !stop.load(ordering: .relaxed) {
                try c.insertOne(["_id": .int32(10_000 + i), "v": .int32(i % 50)])
                try c.updateOne(["_id": .int32(i % 3000)], ["$set": ["v": .int32((i * 7) % 50)]])
                try c.deleteOne(["_id": .int32(2999 - i % 3000)])
                i += 1
                writes.add(1, ordering: .relaxed)
            }
        }
        #expect(writes.load(ordering: .relaxed) > 0)
        #expect(try c.listIndexes().count == 2)
        try expectIndexAgreesWithScan(c, index: "v_1", values: 0..<50)
        // The index holds exactly one entry per document.
        let it = db.engine.makeIterator()
        var entries = 0
        guard let spec = c.readyIndexes.first else {
            Issue.record("index not ready")
            return
        }
        it.seek(spec.entryPrefix)
        while it.isValid, it.key.starts(with: spec.entryPrefix) {
            entries += 1
            it.next()
        }
        #expect(entries == (try c.count()))
    }

    @Test func uniqueConflictFailsTheBuildAndLeavesNoIndex() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<600).map { ["_id": .int32($0), "v": .int32($0 == 599 ? 3 : $0)] })
        do {
            try c.createIndex(["v": 1], options: IndexOptions(unique: true))
            Issue.record("expected DuplicateKey")
        } catch let e as OsmanthusError {
            #expect(e.code.value == 11000)
        }
        #expect(try c.listIndexes().count == 1)
        let it = db.engine.makeIterator()
        it.seek([IndexFormat.entrySpace])
        #expect(!(it.isValid && it.key.first == IndexFormat.entrySpace))
        // Writes go on as before.
        try c.insertOne(["_id": 1000, "v": 3])
    }

    /// A crash between registering an index and finishing its build: the record says
    /// "building" and only some entries exist. Queries never use it; open rebuilds it.
    @Test func interruptedBuildIsRestartedOnOpen() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        do {
            var options = DatabaseOptions()
            options.ttlMonitorInterval = 0
            let db = try Database.open(at: dir.path, options: options)
            let c = db.collection("c", in: "t")
            try c.insertMany((0..<500).map { ["_id": .int32($0), "v": .int32($0 % 10)] })
            guard let entry = c.entry else { throw OsmanthusError(.internalError, "no entry") }
            var spec = try IndexSpec(keys: ["v": 1], options: IndexOptions())
            spec.collectionId = entry.id
            let registered = try db.indexCatalog.add(spec, sync: true)
            // Half the documents indexed, as a build stopped midway would leave them.
            var batch = WriteBatch()
            for i in 0..<250 {
                let doc: Document = ["_id": .int32(Int32(i)), "v": .int32(Int32(i % 10))]
                let pk = try PrimaryKey.key(for: doc, in: entry)[entry.documentPrefix.count...]
                for e in try IndexKeys.entries(doc, pk: pk, spec: registered).entries { batch.put(e.key, e.value) }
            }
            try db.engine.write(batch)
            #expect(!IndexTests().stages(try c.explain(["v": 3])).contains("IXSCAN"))
            #expect(try c.find(["v": 3]).all().count == 50)
            try c.insertOne(["_id": 900, "v": 3])  // maintained while building
            try db.close()
        }
        let db = try Database.open(at: dir.path)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        #expect(c.readyIndexes.map(\.name) == ["v_1"])
        #expect(IndexTests().stages(try c.explain(["v": 3])).contains("IXSCAN"))
        try expectIndexAgreesWithScan(c, index: "v_1", values: 0..<10)
        #expect(try c.find(["v": 3]).all().count == 51)
    }

    @Test func ttlIndexRemovesExpiredDocumentsAndTheirEntries() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var options = DatabaseOptions()
        options.ttlMonitorInterval = 0.05
        let db = try Database.open(at: dir.path, options: options)
        defer { try? db.close() }
        let c = db.collection("c", in: "t")
        try c.createIndex(["at": 1], options: IndexOptions(expireAfterSeconds: 60))
        #expect(try c.listIndexes()[1]["expireAfterSeconds"] == .int64(60))
        let now = Clock.nowMillis()
        try c.insertMany([
            ["_id": 1, "at": .datetime(now - 3_600_000)],
            ["_id": 2, "at": .array([.datetime(now + 3_600_000), .datetime(now - 7_200_000)])],
            ["_id": 3, "at": .datetime(now + 3_600_000)],
            ["_id": 4, "at": "not a date"],
            ["_id": 5],
        ])
        var deadline = 500  // × 20 ms
        while try c.count(["_id": ["$in": [1, 2]]]) > 0 && deadline > 0 {
            usleep(20_000)
            deadline -= 1
        }
        #expect(try c.find().all().map { $0["_id"] } == [.int32(3), .int32(4), .int32(5)])
        // No entry points at a deleted document.
        #expect(try c.find(["at": ["$lt": .datetime(now)]], options: FindOptions(hint: .string("at_1"))).all().isEmpty)
    }

    /// Power loss at random moments of a build (file-system images keeping only synced data):
    /// every image opens with the index either absent or ready and complete, never half built.
    @Test func powerLossDuringABuildNeverLeavesAHalfIndex() throws {
        let fs = MemFileSystem()
        var options = DatabaseOptions()
        options.storage.fileSystem = fs
        options.syncWrites = true
        options.ttlMonitorInterval = 0
        let db = try Database.open(at: "/db", options: options)
        let c = db.collection("c", in: "t")
        try c.insertMany((0..<1000).map { ["_id": .int32($0), "v": .int32($0 % 20)] })
        let images = Mutex<[MemFileSystem]>([])
        let done = Atomic<Bool>(false)
        try runConcurrently(2) { t in
            if t == 0 {
                defer { done.store(true, ordering: .relaxed) }
                try c.createIndex(["v": 1])
                return
            }
            var i: Int32 = 0
            while !done.load(ordering: .relaxed) {
                try c.insertOne(["_id": .int32(5000 + i), "v": .int32(i % 20)])  // synced
                if i % 2 == 0 { images.withLock { if $0.count < 6 { $0.append(fs.crashClone()) } } }
                i += 1
            }
        }
        images.withLock { $0.append(fs.crashClone()) }
        try db.close()
        let clones = images.withLock { $0 }
        #expect(clones.count >= 2)
        for image in clones {
            var o = options
            o.storage.fileSystem = image
            let reopened = try Database.open(at: "/db", options: o)
            let rc = reopened.collection("c", in: "t")
            let specs = reopened.indexCatalog.indexes(of: rc.entry?.id ?? 0)
            #expect(specs.allSatisfy { $0.state == .ready })
            if !specs.isEmpty { try expectIndexAgreesWithScan(rc, index: "v_1", values: 0..<20) }
            try reopened.close()
        }
    }
}
