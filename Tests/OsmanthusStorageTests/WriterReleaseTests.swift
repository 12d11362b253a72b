import Testing

@testable import OsmanthusStorage

/// Writers released by an fsync return without retaking the DB monitor, and pooled writers move
/// between threads (SPEC.md §9.1): every write must be visible to its own thread as soon as
/// its call returns, and every one must survive a reopen.
struct WriterReleaseTests {
    /// Seeded: threads mix sync and plain puts, deletes and two-record batches on keys of their
    /// own, and read each write back the moment it returns; a model per thread says what the
    /// database must hold after a reopen. A small memtable adds log switches to the mix.
    @Test func mixedWritersSeeEachWriteAsSoonAsItReturnsAndKeepItAfterReopen() throws {
        let seed: UInt64 = 0x5EED_0A10
        let dir = TestDirectory()
        defer { dir.remove() }
        let threads = 12
        let perThread = 80
        let models = ModelsBox(threads)
        let db = try DB.open(at: dir.path, options: smallOptions())
        try runConcurrently(threads) { t in
            var rng = SplitMix64(seed: seed &+ UInt64(t))
            // nil: deleted (checked as absent after the reopen too).
            var model: [String: [UInt8]?] = [:]
            for i in 0..<perThread {
                let key = "t\(t)-k\(Int.random(in: 0..<20, using: &rng))"
                let value = Array("t\(t)-v\(i)".utf8)
                let sync = Bool.random(using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0, 1:
                    try db.put(Array(key.utf8), value, options: WriteOptions(sync: sync))
                    model[key] = value
                case 2:
                    try db.delete(Array(key.utf8), options: WriteOptions(sync: sync))
                    model.updateValue(nil, forKey: key)
                default:
                    let other = "t\(t)-b\(i % 5)"
                    var batch = WriteBatch()
                    batch.put(Array(key.utf8), value)
                    batch.put(Array(other.utf8), value)
                    try db.write(batch, options: WriteOptions(sync: sync))
                    model[key] = value
                    model[other] = value
                }
                let seen = try db.get(Array(key.utf8))
                #expect(seen == model[key] ?? nil, "seed \(seed) thread \(t) op \(i): \(key)")
            }
            models.set(t, model)
        }
        try db.close()
        let reopened = try DB.open(at: dir.path, options: smallOptions())
        for t in 0..<threads {
            for (key, value) in models.get(t) {
                #expect(try reopened.get(Array(key.utf8)) == value, "seed \(seed) \(key)")
            }
        }
        try reopened.close()
    }
}

private final class ModelsBox: @unchecked Sendable {
    // `@unchecked Sendable`: `lock` guards `models`.
    private let lock = Monitor()
    private var models: [[String: [UInt8]?]]
    init(_ count: Int) { models = Array(repeating: [:], count: count) }
    func set(_ t: Int, _ m: [String: [UInt8]?]) { lock.withLock { models[t] = m } }
    func get(_ t: Int) -> [String: [UInt8]?] { lock.withLock { models[t] } }
}
