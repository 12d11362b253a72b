import OsmanthusBSON
import Synchronization
import Testing

@testable import Osmanthus

struct TransactionTests {
    struct Oops: Error {}

    func withDatabase(_ body: (Database) throws -> Void) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        try body(db)
        try db.close()
    }

    static func isConflict(_ e: any Error) -> Bool { (e as? OsmanthusError)?.code.value == 112 }

    @Test func commitAppliesEveryWriteTogether() throws {
        try withDatabase { db in
            let accounts = db.collection("accounts", in: "bank")
            try accounts.insertMany([["_id": "a", "balance": 100], ["_id": "b", "balance": 0]])
            let moved = try db.transaction { txn in
                let a = txn.collection("accounts", in: "bank")
                try a.updateOne(["_id": "a"], ["$inc": ["balance": -30]])
                try a.updateOne(["_id": "b"], ["$inc": ["balance": 30]])
                try a.insertOne(["_id": "log1", "amount": 30])
                // The transaction reads its own pending writes; others do not see them yet.
                #expect(try a.get("a")?["balance"] == 70)
                #expect(try accounts.findOne(["_id": "a"])?["balance"] == 100)
                #expect(txn.pendingWriteCount == 3)
                return 30
            }
            #expect(moved == 30)
            #expect(try accounts.find([:], options: FindOptions(sort: ["_id": 1])).all() == [
                ["_id": "a", "balance": 70], ["_id": "b", "balance": 30], ["_id": "log1", "amount": 30],
            ])
        }
    }

    @Test func findAndModifyAndDistinctAnswerLikeTheCollectionsOwnAndWriteAtCommit() throws {
        try withDatabase { db in
            let plain = db.collection("plain", in: "t")
            let inTxn = db.collection("txn", in: "t")
            let seed: [Document] = [["_id": 1, "n": 4], ["_id": 2, "n": 7], ["_id": 3, "n": 7]]
            try plain.insertMany(seed)
            try inTxn.insertMany(seed)
            let cases: [(Document, FindAndModifyOptions)] = [
                ([:], FindAndModifyOptions(sort: ["n": -1, "_id": 1], update: ["$inc": ["n": 1]])),
                (["n": 7], FindAndModifyOptions(update: ["$set": ["m": true]], returnNew: true)),
                (["_id": 1], FindAndModifyOptions(remove: true)),
                (["_id": 9], FindAndModifyOptions(projection: ["n": 1], update: ["$set": ["n": 0]], returnNew: true, upsert: true)),
                (["_id": 8], FindAndModifyOptions(update: ["$set": ["n": 0]])),
            ]
            var expected: [(Document?, Document)] = []
            for (filter, options) in cases { expected.append(try plain.findAndModify(filter, options: options)) }
            try db.transaction { txn in
                let c = txn.collection("txn", in: "t")
                for (i, (filter, options)) in cases.enumerated() {
                    let got = try c.findAndModify(filter, options: options)
                    #expect(got.value == expected[i].0, "case \(i)")
                    #expect(got.lastErrorObject == expected[i].1, "case \(i)")
                }
                // distinct sees the transaction's writes, as the plain collection's shows its own.
                #expect(try c.distinct("n") == plain.distinct("n"))
                #expect(try c.distinct("m", filter: ["n": 7]) == plain.distinct("m", filter: ["n": 7]))
                // Nothing reaches the collection before the commit.
                #expect(try inTxn.count() == 3)
            }
            #expect(try Array(inTxn.find()) == Array(plain.find()))
        }
    }

    @Test func errorThrownInsideTheClosureWritesNothing() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "n": 1])
            #expect(throws: Oops.self) {
                try db.transaction { txn in
                    let tc = txn.collection("c", in: "t")
                    try tc.insertOne(["_id": 2])
                    try tc.updateOne(["_id": 1], ["$set": ["n": 99]])
                    try tc.deleteMany([:])
                    throw Oops()
                }
            }
            #expect(try c.find().all() == [["_id": 1, "n": 1]])
        }
    }

    @Test func readsComeFromTheSnapshotNotFromLaterCommits() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertMany([["_id": 1, "n": 1], ["_id": 2, "n": 2]])
            try db.transaction { txn in
                let tc = txn.collection("c", in: "t")
                #expect(try tc.get(1)?["n"] == 1)
                // Committed after the snapshot: an update of a read key, a new document, a delete.
                try c.updateOne(["_id": 1], ["$set": ["n": 10]])
                try c.insertOne(["_id": 3, "n": 3])
                try c.deleteOne(["_id": 2])
                #expect(try tc.get(1)?["n"] == 1)
                #expect(try tc.find([:]).map { $0["_id"] } == [1, 2])
                #expect(try tc.count(["n": ["$gte": 1]]) == 2)
            }  // read-only: commits without validation
            #expect(try c.count() == 2)
        }
    }

    @Test func scanMergesPendingInsertsUpdatesAndDeletesInKeyOrder() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertMany((1...5).map { ["_id": .int32(Int32($0)), "n": .int32(Int32($0))] })
            try db.transaction { txn in
                let tc = txn.collection("c", in: "t")
                try tc.deleteOne(["_id": 2])
                try tc.insertOne(["_id": 0, "n": 0])
                #expect(try tc.updateMany(["n": ["$gte": 4]], ["$inc": ["n": 100]]) == UpdateResult(matchedCount: 2, modifiedCount: 2))
                try tc.replaceOne(["_id": 3], ["r": true])
                let seen = try tc.find([:], options: FindOptions(projection: ["_id": 1, "n": 1]))
                #expect(seen == [["_id": 0, "n": 0], ["_id": 1, "n": 1], ["_id": 3], ["_id": 4, "n": 104], ["_id": 5, "n": 105]])
                #expect(try tc.find(["n": ["$lt": 100]], options: FindOptions(sort: ["n": -1], limit: 1)) == [["_id": 1, "n": 1]])
            }
            #expect(try c.find().all() == [
                ["_id": 0, "n": 0], ["_id": 1, "n": 1], ["_id": 3, "r": true], ["_id": 4, "n": 104], ["_id": 5, "n": 105],
            ])
        }
    }

    @Test func insertOfAnExistingKeyIsDuplicateKeyAndAbortsTheTransaction() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1])
            #expect {
                try db.transaction { txn in
                    let tc = txn.collection("c", in: "t")
                    try tc.insertOne(["_id": 2])
                    try tc.insertOne(["_id": 1])
                }
            } throws: { ($0 as? OsmanthusError)?.code.value == 11000 }
            #expect {
                try db.transaction { txn in
                    let tc = txn.collection("c", in: "t")
                    try tc.insertOne(["_id": 5])
                    try tc.insertOne(["_id": 5])  // its own pending insert counts
                }
            } throws: { ($0 as? OsmanthusError)?.code.value == 11000 }
            // Upsert inside a transaction inserts when nothing matches.
            let r = try db.transaction { try $0.collection("c", in: "t").updateOne(["_id": 7], ["$set": ["u": 1]], upsert: true) }
            #expect(r.upsertedId == 7)
            #expect(try c.find().all() == [["_id": 1], ["_id": 7, "u": 1]])
        }
    }

    @Test func keyChangedSinceTheSnapshotFailsTheCommitWithWriteConflict() throws {
        try withDatabase { db in
            let c = db.collection("c", in: "t")
            try c.insertOne(["_id": 1, "n": 1])
            // A plain write to a key the transaction read.
            #expect {
                try db.transaction { txn in
                    let tc = txn.collection("c", in: "t")
                    _ = try tc.get(1)
                    try c.updateOne(["_id": 1], ["$set": ["n": 2]])
                    try tc.insertOne(["_id": 2])
                }
            } throws: { Self.isConflict($0) }
            // A blind write to a key someone inserted after the snapshot.
            #expect {
                try db.transaction { txn in
                    let tc = txn.collection("c", in: "t")
                    try c.insertOne(["_id": 3, "by": "plain"])
                    try tc.updateOne(["_id": 3], ["$set": ["by": "txn"]], upsert: true)
                }
            } throws: { Self.isConflict($0) }
            #expect(try c.find().all() == [["_id": 1, "n": 2], ["_id": 3, "by": "plain"]])
        }
    }

    @Test func concurrentIncrementsOfOneCounterCountOnlySuccessfulCommits() throws {
        try withDatabase { db in
            let c = db.collection("counters", in: "t")
            try c.insertOne(["_id": "hits", "n": 0])
            let committed = Counter()
            let conflicts = Counter()
            try runConcurrently(4) { _ in
                for _ in 0..<40 {
                    do {
                        try db.transaction { txn in
                            let tc = txn.collection("counters", in: "t")
                            guard case .int32(let n)? = try tc.get("hits")?["n"] else { throw Oops() }
                            try tc.updateOne(["_id": "hits"], ["$set": ["n": .int32(n + 1)]])
                        }
                        committed.add()
                    } catch let e where Self.isConflict(e) {
                        conflicts.add()
                    }
                }
            }
            #expect(committed.value + conflicts.value == 160)
            #expect(try c.findOne(["_id": "hits"])?["n"] == .int32(Int32(committed.value)))
        }
    }

    @Test func transactionsOnDifferentDocumentsNeverConflict() throws {
        try withDatabase { db in
            let c = db.collection("counters", in: "t")
            try c.insertMany((0..<4).map { ["_id": .int32(Int32($0)), "n": 0] })
            try runConcurrently(4) { i in
                for _ in 0..<25 {
                    try db.transaction { txn in
                        let tc = txn.collection("counters", in: "t")
                        guard case .int32(let n)? = try tc.get(.int32(Int32(i)))?["n"] else { throw Oops() }
                        try tc.updateOne(["_id": .int32(Int32(i))], ["$set": ["n": .int32(n + 1)]])
                    }
                }
            }
            #expect(try c.find().all().map { $0["n"] } == [25, 25, 25, 25])
        }
    }

    @Test func retriesRerunTheBodyUntilItCommits() throws {
        try withDatabase { db in
            let c = db.collection("counters", in: "t")
            try c.insertOne(["_id": "hits", "n": 0])
            let attempts = Counter()
            try runConcurrently(4) { _ in
                for _ in 0..<20 {
                    try db.transaction(retries: 100_000) { txn in
                        attempts.add()
                        let tc = txn.collection("counters", in: "t")
                        guard case .int32(let n)? = try tc.get("hits")?["n"] else { throw Oops() }
                        try tc.updateOne(["_id": "hits"], ["$set": ["n": .int32(n + 1)]])
                    }
                }
            }
            #expect(try c.findOne(["_id": "hits"])?["n"] == 80)
            #expect(attempts.value >= 80)
        }
    }

    @Test func transactionUsedAfterItsClosureIsRefused() throws {
        try withDatabase { db in
            let escaped = try db.transaction { $0.collection("c", in: "t") }
            #expect {
                try escaped.insertOne(["_id": 1])
            } throws: { ($0 as? OsmanthusError)?.code == .illegalOperation }
            #expect(try db.collection("c", in: "t").count() == 0)
        }
    }

    @Test func codableValuesInsideATransaction() throws {
        struct Item: Codable, Equatable { var _id: Int; var name: String; var qty: Int? }
        try withDatabase { db in
            try db.transaction { txn in
                let items = txn.collection("items", in: "t")
                try items.insertOne(Item(_id: 1, name: "pen", qty: 3))
                try items.insertOne(Item(_id: 2, name: "ink", qty: nil))
                #expect(try items.find(["qty": ["$exists": false]], as: Item.self) == [Item(_id: 2, name: "ink", qty: nil)])
            }
            #expect(try db.collection("items", in: "t").findOne(["_id": 1], as: Item.self) == Item(_id: 1, name: "pen", qty: 3))
        }
    }
}
