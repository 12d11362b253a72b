// What a child process sends back to the driver: one JSON line on stdout.

struct WorkloadResult: Codable, Sendable {
    var workload: Workload
    var ops: Int
    var seconds: Double
    var opsPerSecond: Double { seconds > 0 ? Double(ops) / seconds : 0 }
}

struct ChildReport: Codable, Sendable {
    static let linePrefix = "STORAGE-BENCH-RESULT "

    var engine: EngineKind
    var repeatIndex: Int
    var results: [WorkloadResult] = []
    /// Bytes of all files in the database directory after fillrandom, close and reopen (the
    /// reopen replays the log into tables for all three engines).
    var diskBytesAfterFill: Int?
    /// VmHWM at the end of the run, and VmRSS once the benchmark data was generated but before
    /// any database was opened.
    var peakRSSBytes: Int = 0
    var baselineRSSBytes: Int = 0
    /// RssAnon and RssFile with the database still open after the last workload: LevelDB maps
    /// its table files, so part of its RSS is page cache, not heap.
    var endAnonymousRSSBytes: Int = 0
    var endFileRSSBytes: Int = 0
    /// Correctness problems seen while measuring (a missing key, a short scan).
    var problems: [String] = []
    /// The error that ended the run early, with the stage it happened in.
    var failure: String?
}
