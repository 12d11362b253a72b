import Glibc

// The workloads, named as db_bench names them.

enum Workload: String, CaseIterable, Codable, Sendable {
    case fillseq, fillrandom, overwrite, fillbatch, readrandom, readseq, seekrandom
    case fillsync, fillsync16

    /// The order of the report table (the order the brief and db_bench list them).
    static let reportOrder: [Workload] = [
        .fillseq, .fillrandom, .overwrite, .fillbatch, .readrandom, .readseq, .seekrandom,
        .fillsync, .fillsync16,
    ]

    /// The order they run in: each fill starts from an empty database; overwrite and the reads
    /// run on the database fillrandom left.
    static let runOrder: [Workload] = [
        .fillseq, .fillbatch, .fillsync, .fillsync16, .fillrandom, .overwrite, .readrandom,
        .readseq, .seekrandom,
    ]

    /// Workloads that need the full database that fillrandom builds.
    var needsFilledDatabase: Bool {
        switch self {
        case .overwrite, .readrandom, .readseq, .seekrandom: return true
        default: return false
        }
    }

    static let writerThreadsForFillsync16 = 16
    /// fillsync16 writes this many times --sync-num: with group commit it runs several times
    /// faster than fillsync, and a run of a tenth of a second is mostly noise on a shared machine.
    static let fillsync16WriteFactor = 4
    /// fillbatch's records per batch; STORAGE_BENCH_BATCH_SIZE=n changes it to profile small
    /// batches (a document update commits 2 records).
    static let batchSize: Int = {
        if let v = getenv("STORAGE_BENCH_BATCH_SIZE"), let n = Int(String(cString: v)), n > 0 { return n }
        return 1000
    }()
    static let nextsPerSeek = 10

    var summary: String {
        switch self {
        case .fillseq: return "N puts in key order, empty DB"
        case .fillrandom: return "N puts in random order (each key once), empty DB"
        case .overwrite: return "N puts of random existing keys"
        case .fillbatch: return "N puts in key order, batches of \(Self.batchSize), empty DB"
        case .readrandom: return "reads of random existing keys, after close+reopen"
        case .readseq: return "full forward scan; ops = entries"
        case .seekrandom: return "seek to a random key + \(Self.nextsPerSeek) nexts; ops = seeks"
        case .fillsync: return "sync puts, 1 writer, empty DB"
        case .fillsync16:
            return "\(Self.fillsync16WriteFactor)× as many sync puts, \(Self.writerThreadsForFillsync16)"
                + " writer threads started together, empty DB"
        }
    }
}
