// The seam between the workloads and the engines under test.

/// One storage engine as the workloads drive it. Keys and values arrive as raw bytes that the
/// caller owns; an adapter converts them the way its engine's public API requires (RocksDB and
/// LevelDB take pointers, Osmanthus takes `[UInt8]`), so that cost is part of what is measured.
///
/// Engines are shared by the writer threads of `fillsync16`, hence `Sendable`.
protocol Engine: AnyObject, Sendable {
    /// Writes one entry; `sync` asks for it to be durable (fsync) before returning.
    func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sync: Bool) throws

    /// Reads one entry, copying the value out as the engine's API does; returns its length,
    /// or nil when the key is absent.
    func get(_ key: UnsafeRawBufferPointer) throws -> Int?

    func delete(_ key: UnsafeRawBufferPointer) throws

    /// Writes `count` puts atomically as one batch; `entry(i)` gives the i-th key and value.
    func writeBatch(
        count: Int, entry: (Int) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    ) throws

    /// An iterator over the whole key space at the current state.
    func makeCursor() throws -> any EngineCursor

    /// Closes the database; the engine must not be used afterwards.
    func close() throws
}

/// A forward iterator over an engine.
protocol EngineCursor: AnyObject {
    var isValid: Bool { get }
    func seekToFirst()
    func seek(_ key: UnsafeRawBufferPointer)
    func next()
    /// Reads the current key and value (copying where the engine's API copies) and returns
    /// their total length, so a scan cannot skip the reads.
    func entrySize() -> Int
    /// Releases the iterator; throws if the engine reported an error while iterating.
    func close() throws
}

/// What every engine is given on top of its own defaults: the same block cache and Bloom filter.
struct EngineSettings: Sendable {
    var blockCacheBytes: Int = 64 << 20
    var bloomBitsPerKey: Int = 10
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a C `const char*`, for the C APIs.
    var cChars: UnsafePointer<CChar>? { baseAddress?.assumingMemoryBound(to: CChar.self) }
}
