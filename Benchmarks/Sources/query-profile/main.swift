// A single-engine driver for profiling index queries under callgrind: `load` builds a database
// of person documents (name, age, city, tags, note) with the name, (city, age) and age indexes;
// `run` reopens it and runs one query shape N times, so a run with N and one with 0 give the
// instructions per query. Speed against peers is doc-bench's job; this only repeats queries.
//
//   query-profile load DIR DOCS
//   query-profile run DIR eq|range10|range1000|sort|count|fetch100 N [warm]
//   query-profile load-sqlite DIR DOCS          the same documents and indexes in SQLite
//   query-profile run-sqlite DIR WORKLOAD N DOCS [warm]  the same queries in SQL (SQLiteProfile.swift)
//
// `warm` first reads every document and every index entry once (untimed: it is in the N = 0
// run too), so the queries find their blocks in the block cache / pages in SQLite's page
// cache (both 64 MiB, more than the data): steady-state cost, without first-touch reads.
import Foundation
import Osmanthus
import OsmanthusBSON

let cities = ["Amsterdam", "Berlin", "Cairo", "Dublin", "Edinburgh", "Florence", "Geneva", "Hanoi",
              "Istanbul", "Jakarta", "Kyoto", "Lisbon", "Madrid", "Nairobi", "Oslo", "Paris", "Quito",
              "Rome", "Seoul", "Tokyo"]
let first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Leslie", "Frances"]

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
}

func name(_ i: Int) -> String { first[i % first.count] + " " + String(format: "%08d", (i &* 7919) % 1_000_003) }

let args = CommandLine.arguments
guard args.count >= 4 else {
    print("usage: query-profile load|load-sqlite DIR DOCS | run|run-sqlite DIR WORKLOAD N")
    exit(2)
}
if args[1] == "load-sqlite" {
    var rng = Rng(state: 42)
    let docs = (0..<(Int(args[3]) ?? 0)).map { i in
        let age = 18 + rng.below(63)
        return ("doc" + String(format: "%010d", i), name(i), age, cities[rng.below(cities.count)])
    }
    SQLiteProfile.load(args[2], docs)
    exit(0)
}
if args[1] == "run-sqlite" {
    var rng = Rng(state: 42)
    let docs = Int(args.count > 5 ? args[5] : "") ?? 0
    guard docs > 0 else {
        print("usage: query-profile run-sqlite DIR WORKLOAD N DOCS")
        exit(2)
    }
    SQLiteProfile.run(args[2], workload: args[3], ops: Int(args[4]) ?? 0, names: (0..<docs).map(name).sorted(),
                      cities: cities, rng: &rng, warm: args.count > 6 && args[6] == "warm")
    exit(0)
}
let database = try Database.open(at: args[2])
let collection = database.collection("docs", in: "bench")
var rng = Rng(state: 42)
if args[1] == "load" {
    let n = Int(args[3]) ?? 0
    var batch: [Document] = []
    for i in 0..<n {
        var doc = Document()
        doc.append("_id", .string("doc" + String(format: "%010d", i)))
        doc.append("name", .string(name(i)))
        doc.append("age", .int32(Int32(18 + rng.below(63))))
        doc.append("city", .string(cities[rng.below(cities.count)]))
        doc.append("tags", .array([.string("a"), .string("b")]))
        doc.append("note", .string(String(repeating: "x", count: 60)))
        batch.append(doc)
        if batch.count == 1000 {
            try collection.insertMany(batch)
            batch.removeAll()
        }
    }
    if !batch.isEmpty { try collection.insertMany(batch) }
    try collection.createIndex(["name": 1])
    try collection.createIndex(["city": 1, "age": 1])
    try collection.createIndex(["age": 1])
    try database.close()
    exit(0)
}
let ops = args.count > 4 ? Int(args[4]) ?? 0 : 0
let docs = try collection.count()
if args.count > 5 && args[5] == "warm" {
    // Every index entry (exact bounds: counted from the index alone) and every document.
    var seen = 0
    for field in ["name", "city", "age"] {
        seen += try collection.count([field: ["$gte": field == "age" ? .int32(0) : .string("")]])
    }
    let all = try collection.find()
    while try all.next() != nil { seen += 1 }
    print("warmed \(seen)")
}
let names = (0..<docs).map(name).sorted()
func drain(_ c: Cursor) throws -> Int {
    var n = 0
    while try c.next() != nil { n += 1 }
    return n
}
/// The queries alone, not inlined: `valgrind --tool=callgrind --collect-atstart=no
/// --toggle-collect='*runQueries*'` counts only them (no open, load of names or warm-up).
@inline(never)
func runQueries(_ collection: Collection, _ names: [String], _ docs: Int, _ ops: Int, _ workload: String,
                _ rng: inout Rng) throws -> Int {
    var total = 0
    for _ in 0..<ops {
        switch workload {
        case "eq":
            total += try drain(collection.find(["name": .string(names[rng.below(docs)])]))
        case "range10", "range1000":
            let w = workload == "range10" ? 10 : 1000
            let lo = rng.below(docs - w)
            total += try drain(collection.find(["name": ["$gte": .string(names[lo]), "$lte": .string(names[lo + w - 1])]]))
        case "sort":
            total += try drain(collection.find(["city": .string(cities[rng.below(cities.count)])],
                                               options: FindOptions(sort: ["age": -1], limit: 100)))
        case "count":
            let a = Int32(18 + rng.below(61))
            total += try collection.count(["age": ["$gte": .int32(a), "$lte": .int32(a + 2)]])
        case "fetch100":
            let a = Int32(18 + rng.below(61))
            total += try drain(collection.find(["age": ["$gte": .int32(a), "$lte": .int32(a + 2)]],
                                               options: FindOptions(limit: 100)))
        default:
            print("unknown workload \(workload)")
            exit(2)
        }
    }
    return total
}
let total = try runQueries(collection, names, docs, ops, args[3], &rng)
print("docs \(docs) ops \(ops) results \(total)")
try database.close()
