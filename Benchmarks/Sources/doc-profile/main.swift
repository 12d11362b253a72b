// A single-engine driver for profiling document operations under callgrind: `load` builds a
// database of person documents (as doc-bench's, string `_id`s in increasing order) and of
// 1 KB YCSB-style records; `run` reopens it and runs one operation N times, so a run with N and
// one with 0 give the instructions per operation. Speed against peers is doc-bench's job.
//
//   doc-profile load DIR DOCS
//   doc-profile run DIR insert|get|update|update-general|fam|ycsbget|ycsbupdate|scan N [INPUTS]
//   doc-profile fresh DIR DOCS N
//   doc-profile ycsbfresh DIR RECORDS N
// `fresh` loads DOCS person documents into a new database in batches of 1000, as doc-bench does
// before its gets, and without reopening (so the memtable and L0 are as the bench leaves them)
// gets N of them by `_id`; it prints where the data lives. Run it with callgrind's
// `--toggle-collect='*findOne4byId*'` to count only the gets. `ycsbfresh` does the same with
// YCSB records (random-order keys, so a get's key is not below the memtable's smallest: without
// the memtable's key filter every get searched the memtable).
import Foundation
import Osmanthus
import OsmanthusBSON

struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func text(_ n: Int) -> String {
        String(decoding: (0..<n).map { _ in UInt8(97 + below(26)) }, as: UTF8.self)
    }
}

let cities = ["Amsterdam", "Berlin", "Cairo", "Dublin", "Edinburgh", "Florence", "Geneva", "Hanoi"]

func personId(_ i: Int) -> String { "doc" + String(format: "%010d", i) }
func person(_ i: Int, _ rng: inout Rng) -> Document {
    var doc = Document()
    doc.append("_id", .string(personId(i)))
    doc.append("name", .string("name" + String(i)))
    doc.append("age", .int32(Int32(18 + rng.below(63))))
    doc.append("city", .string(cities[rng.below(cities.count)]))
    doc.append("tags", .array([.string("a"), .string("b"), .string("c")]))
    doc.append("note", .string(rng.text(60)))
    return doc
}
func ycsbKey(_ i: Int) -> String { "user" + String(format: "%010d", (i &* 7919) % 1_000_003) }
func ycsbRecord(_ i: Int, _ rng: inout Rng) -> Document {
    var doc = Document()
    doc.append("_id", .string(ycsbKey(i)))
    for f in 0..<10 { doc.append("field\(f)", .string(rng.text(100))) }
    return doc
}

let args = CommandLine.arguments
guard args.count >= 4 else {
    print("usage: doc-profile load DIR DOCS | run DIR WORKLOAD N")
    exit(2)
}
/// `fresh` / `ycsbfresh DIR N [GETS]`: loads N documents (`make`) in batches of 1,000, then gets
/// GETS of them by `_id` without reopening, so the gets see the memtable and levels a load leaves.
func loadThenGet(collection name: String, make: (Int, inout Rng) -> Document, id: (Int) -> String) throws -> Never {
    let database = try Database.open(at: args[2])
    let collection = database.collection(name, in: "bench")
    var rng = Rng(state: 42)
    let n = Int(args[3]) ?? 0
    let ops = args.count > 4 ? Int(args[4]) ?? 0 : 0
    var batch: [Document] = []
    for i in 0..<n {
        batch.append(make(i, &rng))
        if batch.count == 1000 || i == n - 1 {
            try collection.insertMany(batch)
            batch.removeAll()
        }
    }
    let stats = database.engine.statistics
    print("flushes \(stats.value(.flushes)) compactions \(stats.value(.compactions)) moves \(stats.value(.trivialMoves))")
    let ids = (0..<ops).map { _ in id(rng.below(n)) }
    var total = 0
    for id in ids { total += try collection.findOne(byId: .string(id))?.byteCount ?? 0 }
    print("documents \(n) gets \(ops) bytes \(total) bloomUseful \(stats.value(.bloomUseful))")
    try database.close()
    exit(0)
}
if args[1] == "ycsbfresh" { try loadThenGet(collection: "ycsb", make: ycsbRecord, id: ycsbKey) }
if args[1] == "fresh" { try loadThenGet(collection: "people", make: person, id: personId) }
let database = try Database.open(at: args[2])
let people = database.collection("people", in: "bench")
let ycsb = database.collection("ycsb", in: "bench")
var rng = Rng(state: 42)
if args[1] == "load" {
    let n = Int(args[3]) ?? 0
    var batch: [Document] = []
    var records: [Document] = []
    for i in 0..<n {
        batch.append(person(i, &rng))
        records.append(ycsbRecord(i, &rng))
        if batch.count == 1000 {
            try people.insertMany(batch)
            try ycsb.insertMany(records)
            batch.removeAll()
            records.removeAll()
        }
    }
    if !batch.isEmpty { try people.insertMany(batch) }
    if !records.isEmpty { try ycsb.insertMany(records) }
    try database.close()
    exit(0)
}
let ops = args.count > 4 ? Int(args[4]) ?? 0 : 0
let docs = try people.count()
let records = try ycsb.count()
// Inputs made before the timed loop, so a run of N minus a run of 0 is the operations alone.
var inputs: [Document] = []
var ids: [String] = []
var texts: [String] = []
// As many inputs as the run with N makes, also in the run with 0 (the optional last argument).
let inputCount = args.count > 5 ? Int(args[5]) ?? ops : ops
for i in 0..<inputCount {
    switch args[3] {
    case "insert": inputs.append(person(docs + 1_000_000 + i, &rng))
    case "get", "update", "update-general", "fam": ids.append(personId(rng.below(docs)))
    case "ycsbget", "ycsbupdate", "scan": ids.append(ycsbKey(rng.below(records)))
    default: break
    }
    texts.append(cities[rng.below(cities.count)] + (args[3] == "ycsbupdate" ? rng.text(100 - 9) : ""))
}
var total = 0
for i in 0..<ops {
    switch args[3] {
    case "insert":
        _ = try people.insertOne(inputs[i])
        total += 1
    case "get":
        total += try people.findOne(byId: .string(ids[i]))?.byteCount ?? 0
    case "ycsbget":
        total += try ycsb.findOne(byId: .string(ids[i]))?.byteCount ?? 0
    case "update":
        total += try people.updateOne(
            ["_id": .string(ids[i])], ["$set": ["city": .string(texts[i])], "$inc": ["age": .int32(1)]]
        ).modifiedCount
    case "update-general":  // `{_id: {$eq: v}}`: the filter and planner path every update took before
        total += try people.updateOne(
            ["_id": ["$eq": .string(ids[i])]], ["$set": ["city": .string(texts[i])], "$inc": ["age": .int32(1)]]
        ).modifiedCount
    case "fam":  // findAndModify by `_id`, returning the new document
        total += try people.findAndModify(
            ["_id": .string(ids[i])],
            options: FindAndModifyOptions(update: ["$set": ["city": .string(texts[i])]], returnNew: true)
        ).value?.byteCount ?? 0
    case "ycsbupdate":
        var set = Document()
        set.append("field" + String(i % 10), .string(String(texts[i].prefix(100))))
        total += try ycsb.updateOne(["_id": .string(ids[i])], ["$set": .document(set)]).modifiedCount
    case "scan":
        let c = try ycsb.find(["_id": ["$gte": .string(ids[i])]], options: FindOptions(limit: 1 + i % 100))
        while let d = try c.next() { total += d.byteCount > 0 ? 1 : 0 }
    default:
        print("unknown workload \(args[3])")
        exit(2)
    }
}
print("docs \(docs) records \(records) ops \(ops) results \(total)")
try database.close()
