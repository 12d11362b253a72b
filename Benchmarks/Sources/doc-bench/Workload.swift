// The workloads, in report order, with the targets.

enum Workload: String, CaseIterable, Sendable {
    case insertOne = "insert one-by-one"
    case insertBatch = "insert batches of 1000"
    case getByID = "get by _id"
    case updateByID = "update by _id ($set+$inc)"
    case rangeCount = "age range: count"
    case rangeFetch = "age range: fetch 100"
    case groupByCity = "$group by city (count, avg age)"
    case indexEq = "index: name equality"
    case indexRange10 = "index: name range of 10"
    case indexRange1000 = "index: name range of 1000"
    case indexCompoundSort = "index: (city, age) sort age desc, 100"
    case ycsbA = "YCSB A (50 read/50 update)"
    case ycsbB = "YCSB B (95 read/5 update)"
    case ycsbC = "YCSB C (100 read)"
    case ycsbD = "YCSB D (95 read latest/5 insert)"
    case ycsbE = "YCSB E (95 scan/5 insert)"
    case ycsbF = "YCSB F (50 read-mod-write/50 read)"

    /// Osmanthus ops/s over SQLite ops/s the issue asks for, when it names one.
    var targetRatio: Double? {
        switch self {
        case .insertOne: 4
        case .groupByCity: 1
        case .getByID: 2
        case .indexEq, .indexRange10, .indexRange1000, .indexCompoundSort: 2
        case .ycsbA, .ycsbB, .ycsbC, .ycsbD, .ycsbE, .ycsbF: 2
        default: nil
        }
    }

    /// What one operation is, for the table's footnotes.
    var unit: String {
        switch self {
        case .insertBatch: "documents"
        case .rangeCount, .rangeFetch, .groupByCity, .indexEq, .indexRange10, .indexRange1000, .indexCompoundSort:
            "queries"
        default: "operations"
        }
    }
}

/// Every measurement, by workload and engine, in the order taken.
struct Results {
    private(set) var table: [Workload: [String: [Measurement]]] = [:]

    mutating func add(_ workload: Workload, _ engine: String, _ measurement: Measurement) {
        table[workload, default: [:]][engine, default: []].append(measurement)
    }

    func measurements(_ workload: Workload, _ engine: String) -> [Measurement] {
        table[workload]?[engine] ?? []
    }
}
