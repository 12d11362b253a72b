import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Seeded random runs of the single-document operations by `_id` (insertOne, insertMany,
/// findOne, updateOne, replaceOne, findAndModify, deleteOne and short `_id` range scans) against
/// a dictionary model, with the data spread over the memtable and flushed tables. `_id`s are
/// drawn as int32, int64 and double spellings of one number (one key for MongoDB) and as
/// strings, so the lean by-`_id` paths must agree with MongoDB's equality. The seed is in every
/// failure message.
struct PointOperationModelTests {
    /// A document as the model keeps it: the `_id` as first stored and the other fields.
    struct Stored {
        var id: BSONValue
        var fields: [String: BSONValue]
    }

    /// One logical key per number and per string.
    enum ModelKey: Hashable, Comparable {
        case number(Int)
        case string(String)
    }

    static func spelling(_ key: ModelKey, _ rng: inout SplitMix64) -> BSONValue {
        switch key {
        case .number(let n):
            switch rng.next() % 3 {
            case 0: return .int32(Int32(n))
            case 1: return .int64(Int64(n))
            default: return .double(Double(n))
            }
        case .string(let s): return .string(s)
        }
    }

    static func randomKey(_ rng: inout SplitMix64) -> ModelKey {
        rng.next() % 2 == 0 ? .number(Int(rng.next() % 24) - 4) : .string(stringKey(Int(rng.next() % 24)))
    }

    static func stringKey(_ i: Int) -> String {
        // Mixed lengths (some over a small string's 15 bytes) so key encoding sees both.
        i % 3 == 0 ? "user" + String(repeating: "x", count: 16) + String(i / 10) + String(i % 10) : "k" + String(i / 10) + String(i % 10)
    }

    /// The stored document matches the model: `_id` first and exactly as stored, same fields.
    static func check(_ doc: Document?, _ expected: Stored?, _ context: String) {
        guard let expected else {
            #expect(doc == nil, "\(context): expected no document, got \(String(describing: doc))")
            return
        }
        guard let doc else {
            Issue.record("\(context): expected a document with _id \(expected.id), got none")
            return
        }
        #expect(doc.keys.first == "_id", "\(context)")
        #expect(doc["_id"] == expected.id, "\(context): _id \(String(describing: doc["_id"])) != \(expected.id)")
        var fields: [String: BSONValue] = [:]
        for (k, v) in doc where k != "_id" { fields[k] = v }
        #expect(fields == expected.fields, "\(context): fields \(fields) != \(expected.fields)")
    }

    static func isDuplicateKey(_ error: any Error) -> Bool {
        (error as? OsmanthusError)?.code == .duplicateKey
    }

    @Test(arguments: [UInt64(0x0D0C_0001), 0x0D0C_0002, 0x0D0C_0003, 0x0D0C_0004])
    func byIdOperationsAgreeWithADictionaryModel(seed: UInt64) throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var options = DatabaseOptions()
        options.storage.memtableSize = 64 << 10  // several flushes within the run
        let db = try Database.open(at: dir.path, options: options)
        let c = db.collection("c", in: "model")
        var rng = SplitMix64(seed: seed)
        var model: [ModelKey: Stored] = [:]
        var counter: Int32 = 0

        func padding() -> BSONValue { .string(String(repeating: "p", count: Int(rng.next() % 300))) }

        for step in 0..<1500 {
            let context = "seed \(seed) step \(step)"
            let key = Self.randomKey(&rng)
            let id = Self.spelling(key, &rng)
            counter += 1
            switch rng.next() % 10 {
            case 0, 1:  // insertOne
                let doc: Document = ["_id": id, "v": .int32(counter), "pad": padding()]
                do {
                    let inserted = try c.insertOne(doc)
                    #expect(model[key] == nil, "\(context): insert of an existing key succeeded")
                    #expect(inserted == id, "\(context)")
                    model[key] = Stored(id: id, fields: ["v": .int32(counter), "pad": doc["pad"] ?? .null])
                } catch {
                    #expect(Self.isDuplicateKey(error) && model[key] != nil, "\(context): \(error)")
                }
            case 2:  // findOne by id, through both entry points
                Self.check(try c.findOne(byId: id), model[key], context + " findOne(byId:)")
                Self.check(try c.findOne(["_id": id]), model[key], context + " findOne")
            case 3:  // updateOne $set/$inc, or $unset
                let unset = rng.next() % 4 == 0
                let update: Document =
                    unset ? ["$unset": ["s": ""]] : ["$set": ["s": .string("s\(counter)")], "$inc": ["v": .int32(1)]]
                let result = try c.updateOne(["_id": id], update)
                #expect(result.matchedCount == (model[key] == nil ? 0 : 1), "\(context)")
                if var stored = model[key] {
                    if unset {
                        stored.fields["s"] = nil
                    } else {
                        stored.fields["s"] = .string("s\(counter)")
                        if case .int32(let v)? = stored.fields["v"] { stored.fields["v"] = .int32(v + 1) } else {
                            stored.fields["v"] = .int32(1)
                        }
                    }
                    model[key] = stored
                }
            case 4:  // replaceOne
                let result = try c.replaceOne(["_id": id], ["v": .int32(counter)])
                #expect(result.matchedCount == (model[key] == nil ? 0 : 1), "\(context)")
                if model[key] != nil { model[key]?.fields = ["v": .int32(counter)] }
            case 5, 6:  // findAndModify: update (maybe upsert, maybe returnNew) or remove
                let remove = rng.next() % 3 == 0
                let returnNew = !remove && rng.next() % 2 == 0
                let upsert = !remove && rng.next() % 2 == 0
                let update: Document = ["$set": ["s": .string("f\(counter)")]]
                // `{_id: {$eq: v}}` takes the general path: both must agree with the model.
                let filter: Document = rng.next() % 3 == 0 ? ["_id": ["$eq": id]] : ["_id": id]
                let (value, lastError) = try c.findAndModify(
                    filter,
                    options: FindAndModifyOptions(
                        update: remove ? nil : update, remove: remove, returnNew: returnNew, upsert: upsert))
                let before = model[key]
                var after = before
                if remove {
                    after = nil
                } else if after != nil {
                    after?.fields["s"] = .string("f\(counter)")
                } else if upsert {
                    after = Stored(id: id, fields: ["s": .string("f\(counter)")])
                }
                model[key] = after
                Self.check(value, returnNew ? after : before, context + " findAndModify")
                let n = (before != nil || (upsert && !remove)) ? 1 : 0
                #expect(lastError["n"] == .int32(Int32(n)), "\(context): \(lastError)")
            case 7:  // deleteOne
                let n = try c.deleteOne(["_id": id])
                #expect(n == (model[key] == nil ? 0 : 1), "\(context)")
                model[key] = nil
            case 8:  // a short scan from a string key: key order, limited
                let from = Self.stringKey(Int(rng.next() % 24))
                let limit = 1 + Int(rng.next() % 6)
                let got = try c.find(["_id": ["$gte": .string(from)]], options: FindOptions(limit: limit)).all()
                let expected = model.keys.compactMap { k -> String? in
                    if case .string(let s) = k, s >= from { return s }
                    return nil
                }.sorted().prefix(limit)
                #expect(got.map { $0["_id"] } == expected.map { .string($0) }, "\(context) scan from \(from)")
            default:  // insertMany, unordered, maybe with a duplicate inside the batch
                let second = rng.next() % 3 == 0 ? key : Self.randomKey(&rng)
                let docs: [Document] = [
                    ["_id": id, "v": .int32(counter)], ["_id": Self.spelling(second, &rng), "v": .int32(-counter)],
                ]
                let result = try c.insertMany(docs, ordered: false)
                var wrote = 0
                for (i, (k, v)) in [(key, counter), (second, -counter)].enumerated() {
                    if model[k] == nil {
                        model[k] = Stored(id: docs[i]["_id"] ?? .null, fields: ["v": .int32(v)])
                        #expect(result.insertedIds[i] != nil, "\(context): insertMany[\(i)]")
                        wrote += 1
                    } else {
                        #expect(result.insertedIds[i] == nil, "\(context): insertMany[\(i)] over an existing key")
                    }
                }
                #expect(result.errors.count == 2 - wrote, "\(context)")
            }
            if step % 500 == 499 { try db.storage.flush() }
        }
        // Everything, read back by every spelling and by a full scan.
        for (key, stored) in model {
            Self.check(try c.findOne(byId: Self.spelling(key, &rng)), stored, "seed \(seed) final")
        }
        #expect(try c.count() == model.count, "seed \(seed)")
        try db.close()
    }

    /// An `_id` of any type a point read takes, from a small pool so lookups hit: numbers spelled
    /// as int32, int64, double and decimal128 (0.1 as a decimal is placed by its nearest double and
    /// shares a key with a double it does not equal; 2^53+1 as a decimal is keyed as the int64),
    /// strings, ObjectIds, binaries, booleans, dates and timestamps (and a symbol, which a point
    /// read leaves to the query).
    static func anyId(_ rng: inout SplitMix64) throws -> BSONValue {
        let n = Int(rng.next() % 6) - 2
        switch rng.next() % 11 {
        case 0: return .int32(Int32(n))
        case 1: return rng.next() % 2 == 0 ? .int64(Int64(n)) : .int64(9_007_199_254_740_993)
        case 2: return [BSONValue.double(Double(n)), .double(0.1), .double(-0.0), .double(9_007_199_254_740_992)][Int(rng.next() % 4)]
        case 3: return .decimal128(try Decimal128(["0.1", "1", "1.0", "-0", "9007199254740992", "9007199254740993"][Int(rng.next() % 6)]))
        case 4: return .string(["", "a", "a\u{0}b", stringKey(n + 3)][Int(rng.next() % 4)])
        case 5: return .objectId(ObjectId(seconds: UInt32(n + 2), processUnique: 7, counter: 1))
        case 6: return .binary(BSONBinary(subtype: BSONBinary.Subtype(UInt8(rng.next() % 2)), data: [UInt8](repeating: 1, count: n + 2)))
        case 7: return .bool(rng.next() % 2 == 0)
        case 8: return .datetime(Int64(n) * 1000)
        case 9: return .symbol("a")
        default: return .timestamp(increment: UInt32(n + 2), seconds: 5)
        }
    }

    /// `findOne(byId:)` and updates by `{_id: v}` find exactly the document whose `_id` equals v
    /// by MongoDB's rules, as a scan of the whole collection tells, for `_id`s of every type, so
    /// the key deciding equality without a comparison (same type, same key) is never wrong.
    @Test func pointReadsOfEveryIdTypeAgreeWithAScan() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let c = db.collection("ids", in: "t")
        var rng = SplitMix64(seed: 0x0D0C_0101)
        for step in 0..<120 {
            let id = try Self.anyId(&rng)
            do { try c.insertOne(["_id": id, "step": .int32(Int32(step))]) } catch {
                #expect(Self.isDuplicateKey(error), "step \(step): \(error)")
            }
            if step == 60 { try db.storage.flush() }
        }
        var all = try c.find().all()
        #expect(all.count > 20)
        for step in 0..<600 {
            let id = try Self.anyId(&rng)
            let expected = all.first { BSONValue.compare($0["_id"] ?? .null, id) == 0 }
            let found = try c.findOne(byId: id)
            #expect(found == expected, "step \(step): _id \(id): \(String(describing: found))")
            if step % 5 == 0 {
                let result = try c.updateOne(["_id": id], ["$set": ["seen": .int32(Int32(step))]])
                #expect(result.matchedCount == (expected == nil ? 0 : 1), "step \(step): _id \(id)")
                all = try c.find().all()
                if let expected {
                    let now = all.first { $0["step"] == expected["step"] }
                    #expect(now?["seen"] == .int32(Int32(step)), "step \(step): _id \(id)")
                }
            }
        }
        try db.close()
    }
}
