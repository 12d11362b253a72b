import OsmanthusBSON
import Testing

@testable import Osmanthus

/// The lean update of top-level `$set`/`$inc`/`$unset` (`Update.applyTopLevel`, and
/// `Collection.updateById` around it) must agree with the general update tree and with the
/// diff the change log otherwise makes: same document bytes, same errors, same
/// `updateDescription`, same results and change events through a collection.
struct TopLevelUpdateTests {
    static let fields = ["a", "b", "c", "d", "e"]
    /// Keys the one-scan field lookup tells apart by more than their first bytes: of 7 and 8
    /// bytes, long ones sharing a prefix or a suffix, one a prefix of another.
    static let longFields = [
        "field01", "field02", "field001", "field002", "fieldname_long_shared_suffix",
        "fieldname_long_shared_suffiy", "x_fieldname_long_shared_suffix", "f",
    ]

    /// A stored-like document: `_id` first (sometimes not, or twice, which the lean path must
    /// refuse), then random fields, sometimes with a key repeated.
    static func document(_ rng: inout SplitMix64, id: Int, fields: [String] = fields, size: Int = 6, repeatOdds: UInt64 = 4)
        -> Document
    {
        var d = Document()
        let shape = rng.next() % 10
        if shape != 0 { d.append("_id", .int32(Int32(id))) }
        for _ in 0..<Int(rng.next() % UInt64(size)) {
            let key = fields[Int(rng.next() % UInt64(fields.count))]
            if rng.next() % repeatOdds == 0 || d[key] == nil { d.append(key, UpdateDescriptionTests.value(&rng, depth: 0)) }
        }
        if shape == 0 { d.append("_id", .int32(Int32(id))) }
        if shape == 1 { d.append("_id", .int32(Int32(id))) }  // `_id` twice
        return d
    }

    /// One to three of `$set`, `$inc` and `$unset` on distinct top-level fields; `$inc` may
    /// meet a non-number (TypeMismatch) and `$set` may write an equal value.
    static func update(_ rng: inout SplitMix64, fields: [String] = fields) -> Document {
        var byOperator: [String: Document] = [:]
        var used = Set<String>()
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let field = fields[Int(rng.next() % UInt64(fields.count))]
            guard used.insert(field).inserted else { continue }
            switch rng.next() % 4 {
            case 0: byOperator["$inc", default: Document()].append(field, rng.next() % 2 == 0 ? .int32(1) : .double(0.5))
            case 1: byOperator["$unset", default: Document()].append(field, "")
            default: byOperator["$set", default: Document()].append(field, UpdateDescriptionTests.value(&rng, depth: 0))
            }
        }
        var spec = Document()
        for op in ["$set", "$inc", "$unset"] { if let fields = byOperator[op] { spec.append(op, .document(fields)) } }
        return spec
    }

    static func code(_ body: () throws -> Void) -> Int32? {
        do {
            try body()
            return nil
        } catch {
            return (error as? OsmanthusError)?.code.value ?? -1
        }
    }

    /// Field sets: short keys; keys alike in their first or last bytes; 90 keys, so a document
    /// may hold more than the 64 keys the scan keeps on the stack.
    static let fieldSets: [(seed: UInt64, fields: [String], size: Int, repeatOdds: UInt64, cases: Int)] = [
        (0x5EED_0301, fields, 6, 4, 3000), (0x5EED_0303, longFields, 10, 4, 3000),
        (0x5EED_0304, (0..<90).map { "k\($0)" }, 150, 2000, 600),
    ]

    @Test(arguments: 0..<3)
    func leanEditAgreesWithTheGeneralUpdateOnRandomDocuments(set: Int) throws {
        let (seed, fields, size, repeatOdds, cases) = Self.fieldSets[set]
        var rng = SplitMix64(seed: seed)
        var described = 0
        var leftToDiff = 0
        var refused = 0
        var failed = 0
        for i in 0..<cases {
            let doc = Self.document(&rng, id: i, fields: fields, size: size, repeatOdds: repeatOdds)
            let spec = Self.update(&rng, fields: fields)
            let update = try Update(spec)
            let actions = try #require(update.topLevelActions, "\(spec)")
            let now: Int64 = 1_700_000_000_000
            guard doc.hasLeadingUniqueField("_id") else {
                #expect(try update.applyTopLevel(actions, to: doc, now: now, describe: true) == nil, "case \(i)")
                refused += 1
                continue
            }
            var general: Document?
            let generalCode = Self.code { general = try update.apply(to: doc, now: now) }
            var lean: TopLevelEdit??
            let leanCode = Self.code { lean = try update.applyTopLevel(actions, to: doc, now: now, describe: true) }
            #expect(leanCode == generalCode, "case \(i): \(doc) \(spec)")
            if generalCode != nil {
                failed += 1
                continue
            }
            let edit = try #require(lean ?? nil, "case \(i): \(doc)")
            let expected = try #require(general)
            #expect(edit.updated == expected, "case \(i): \(doc) \(spec): \(edit.updated) vs \(expected)")
            guard expected != doc else { continue }
            if let description = edit.updateDescription {
                described += 1
                #expect(description == UpdateDescription.diff(doc, expected), "case \(i): \(doc) \(spec)")
            } else {
                leftToDiff += 1
            }
        }
        #expect(described > cases / 6)
        #expect(refused > cases / 30)
        #expect(failed > cases / 300)
        if set < 2 { #expect(leftToDiff > 10) }  // repeated keys, or a document replaced by one
    }

    @Test func onlyTopLevelSetIncAndUnsetAreLean() throws {
        #expect(try Update(["$set": ["a": 1], "$inc": ["b": 2], "$unset": ["c": ""]]).topLevelActions?.map(\.path)
            == [["a"], ["b"], ["c"]])
        #expect(try Update(["$set": ["z": 1, "a": 2]]).topLevelActions?.map(\.path) == [["a"], ["z"]])
        #expect(try Update(["$set": ["a.b": 1]]).topLevelActions == nil)
        #expect(try Update(["$set": ["_id": 1]]).topLevelActions == nil)
        #expect(try Update(["$max": ["a": 1]]).topLevelActions == nil)
        #expect(try Update(["$set": ["a": 1], "$push": ["b": 1]]).topLevelActions == nil)
        #expect(try Update(["a": 1]).topLevelActions == nil)
    }

    /// A scalar of each type `OneFieldSet` takes, some equal to what a field may hold already.
    static func scalar(_ rng: inout SplitMix64) -> BSONValue {
        switch rng.next() % 10 {
        case 0: .int32(Int32(rng.next() % 3))
        case 1: .int64(Int64(rng.next() % 3))
        case 2: [.double(.nan), .double(-0.0), .double(0), .double(1.5)][Int(rng.next() % 4)]
        case 3: .string(String(repeating: "x", count: Int(rng.next() % 120)))
        case 4: .null
        case 5: .bool(rng.next() % 2 == 0)
        case 6: .objectId(ObjectId(seconds: UInt32(rng.next() % 3), processUnique: 7, counter: 1))
        case 7: .datetime(Int64(rng.next() % 3))
        case 8: .timestamp(increment: UInt32(rng.next() % 3), seconds: 1)
        default: .decimal128(Decimal128(Int64(rng.next() % 2)))
        }
    }

    @Test(arguments: 0..<3)
    func oneFieldSetFromTheUpdateBytesAgreesWithTheGeneralUpdate(set: Int) throws {
        let (seed, fields, size, repeatOdds, cases) = Self.fieldSets[set]
        var rng = SplitMix64(seed: seed ^ 0x0F5E7)
        var described = 0
        var refused = 0
        for i in 0..<cases {
            let doc = Self.document(&rng, id: i, fields: fields, size: size, repeatOdds: repeatOdds)
            let field = fields[Int(rng.next() % UInt64(fields.count))]
            var argument = Document()
            argument.append(field, Self.scalar(&rng))
            let spec: Document = ["$set": .document(argument)]
            let set = try #require(OneFieldSet(spec), "\(spec)")
            #expect(set.key == field)
            let lean = set.apply(to: doc, describe: true)
            let leadsAndUnique = doc.topLevelFields(leading: "_id", fields)?.uniqueKeys ?? false
            #expect((lean != nil) == leadsAndUnique, "case \(i): \(doc)")
            guard let lean else {
                refused += 1
                continue
            }
            let general = try Update(spec).apply(to: doc, now: 0)
            #expect(lean.updated.bytes == general.bytes, "case \(i): \(doc) \(spec)")
            #expect(set.apply(to: doc, describe: false)?.updateDescription == nil)
            guard general != doc else { continue }
            let description = try #require(lean.updateDescription, "case \(i): \(doc) \(spec)")
            #expect(description == UpdateDescription.diff(doc, general), "case \(i): \(doc) \(spec)")
            described += 1
        }
        #expect(described > cases / 3)
        #expect(refused > cases / 30)
    }

    @Test func onlyOneScalarSetOfATopLevelFieldIsReadFromTheUpdateBytes() throws {
        #expect(OneFieldSet(["$set": ["a": 1]])?.key == "a")
        #expect(OneFieldSet(["$set": ["field7": "text"]])?.key == "field7")
        #expect(OneFieldSet(["$set": ["_idx": .null]])?.key == "_idx")
        #expect(OneFieldSet(["$set": ["_i": .bool(true)]])?.key == "_i")
        let refused: [Document] = [
            ["$set": ["a": 1, "b": 2]], ["$set": ["a.b": 1]], ["$set": ["_id": 1]], ["$set": ["$a": 1]],
            ["$set": ["a": ["b": 1]]], ["$set": ["a": [1, 2]]], ["$set": ["a": .regex(pattern: "x", options: "")]],
            ["$set": ["a": .binary(BSONBinary(data: [1]))]], ["$set": [:]], ["$set": ["": 1]], ["$inc": ["a": 1]],
            ["$set": ["a": 1], "$inc": ["b": 1]], ["$inc": ["b": 1], "$set": ["a": 1]], ["a": 1], ["$setOnInsert": ["a": 1]],
            ["$set": 1], [:],
        ]
        for spec in refused { #expect(OneFieldSet(spec) == nil, "\(spec)") }
    }

    /// The same random updates by `{_id: v}` (lean) and by `{_id: {$eq: v}}` (the general
    /// path) on two collections with the same documents: same results, documents and events.
    @Test func updatesByIdAgreeWithPlannedUpdatesAndTheirEvents() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        let db = try Database.open(at: dir.path)
        let start = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        let lean = db.collection("lean", in: "t")
        let general = db.collection("general", in: "t")
        var rng = SplitMix64(seed: 0x5EED_0302)
        for i in 0..<30 {
            var doc = Self.document(&rng, id: i)
            doc = Document(doc.filter { $0.0 != "_id" })
            doc.set("_id", .int32(Int32(i)))
            try lean.insertOne(doc)
            try general.insertOne(doc)
        }
        var errors = 0
        var readInPlace = 0
        for step in 0..<600 {
            let id = BSONValue.int32(Int32(rng.next() % 34))  // some absent
            let spec = Self.update(&rng)
            if OneFieldSet(spec) != nil { readInPlace += 1 }
            let upsert = rng.next() % 4 == 0
            var a: UpdateResult?
            var b: UpdateResult?
            let codeA = Self.code { a = try lean.updateOne(["_id": id], spec, upsert: upsert) }
            let codeB = Self.code { b = try general.updateOne(["_id": ["$eq": id]], spec, upsert: upsert) }
            #expect(codeA == codeB, "step \(step): \(spec)")
            #expect(a == b, "step \(step): \(spec)")
            if codeA != nil { errors += 1 }
        }
        #expect(errors > 10)
        #expect(readInPlace > 50)
        #expect(try lean.find().all() == general.find().all())
        var reader = try db.changeStreamReader(.cluster, options: ChangeStreamOptions(resumeAfter: start))
        var events: [String: [ChangeEvent]] = [:]
        while true {
            let batch = try reader.poll(limit: 100)
            if batch.isEmpty { break }
            for event in batch { events[event.namespace?["coll"]?.stringValue ?? "", default: []].append(event) }
        }
        let leanEvents = events["lean"] ?? []
        let generalEvents = events["general"] ?? []
        #expect(leanEvents.count == generalEvents.count)
        #expect(leanEvents.filter { $0.operationType == .update }.count > 200)
        for (x, y) in zip(leanEvents, generalEvents) {
            #expect(x.operationType == y.operationType)
            #expect(x.documentKey == y.documentKey)
            #expect(x.updateDescription == y.updateDescription, "\(x.documentKey)")
            #expect(x.fullDocument == y.fullDocument)
        }
        try db.close()
    }
}
