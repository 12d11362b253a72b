// Osmanthus's own engine through its public DB API (Sources/OsmanthusStorage/DB/DB.swift).
import Foundation
import OsmanthusStorage

/// Osmanthus with its default options. Puts (single and batched) go through the borrowing
/// `put(bytes:)` and gets through `get(bytes:)`, as the peers' C APIs take pointers; a get returns
/// the value as a new array, as `rocksdb_get` copies it out. Cursors seek with the borrowing
/// `seek(bytes:)` and read through `withKey`/`withValue`, as the peers' cursors take and lend slices.
///
/// `Sendable`: `DB` is thread-safe by its own lock; this class holds nothing else.
final class OsmanthusEngine: Engine, Sendable {
    private let db: DB

    init(path: String, settings: EngineSettings) throws {
        db = try DB.open(at: path, options: Self.options(settings))
        // STORAGE_BENCH_COMPACT=1: everything rewritten into one level at open (with the options
        // of this run), e.g. to compare table layouts on the same keys with STORAGE_BENCH_REUSE_DB.
        if getenv("STORAGE_BENCH_COMPACT") != nil { try db.compactRange() }
    }

    /// Osmanthus's defaults with the shared cache size and Bloom bits (both happen to be
    /// its defaults too).
    private static func options(_ settings: EngineSettings) -> Options {
        var options = Options()
        options.blockCacheCapacity = settings.blockCacheBytes
        options.bloomBitsPerKey = settings.bloomBitsPerKey
        // STORAGE_BENCH_BOTTOMMOST=zstd: the bottom level in zstd (SPEC §9.4), to compare with
        // the default per-level choice in otherwise equal runs.
        if let value = getenv("STORAGE_BENCH_BOTTOMMOST"), String(cString: value) == "zstd" {
            options.bottommostCompression = .zstd
        }
        // STORAGE_BENCH_RESTART=N: data blocks with a restart point every N entries.
        if let value = getenv("STORAGE_BENCH_RESTART"), let n = Int(String(cString: value)), n > 0 {
            options.blockRestartInterval = n
        }
        // STORAGE_BENCH_PACK=0: tables with plain trailers (SPEC §7.3), as before packing.
        if let value = getenv("STORAGE_BENCH_PACK"), String(cString: value) == "0" {
            options.packTrailers = false
        }
        // STORAGE_BENCH_NO_MEMTABLE_FILTER=1: memtables without their key filter (what it costs).
        if let value = getenv("STORAGE_BENCH_NO_MEMTABLE_FILTER"), String(cString: value) == "1" {
            options.memtableKeyFilter = false
        }
        // STORAGE_BENCH_FILL_CACHE=1: flushes fill the block cache (`Options.fillCacheOnFlush`).
        if let value = getenv("STORAGE_BENCH_FILL_CACHE"), String(cString: value) == "1" {
            options.fillCacheOnFlush = true
        }
        // STORAGE_BENCH_MEMTABLE_MB=N: memtable size in MiB (default 32), e.g. to see what a
        // larger skiplist's cache misses cost fillrandom.
        if let value = getenv("STORAGE_BENCH_MEMTABLE_MB"), let n = Int(String(cString: value)), n > 0 {
            options.memtableSize = n << 20
        }
        return options
    }

    static func settingsDescription(_ settings: EngineSettings) -> String {
        let o = options(settings)
        let compression = o.compressionPerLevel.map { "\($0)" }.joined(separator: "/")
        return "defaults (memtable \(o.memtableSize >> 20) MiB, target_file"
            + " \(o.targetFileSize >> 20) MiB, block \(o.blockSize >> 10) KiB, compression by"
            + " level \(compression), bottommost level \(o.bottommostCompression.map { "\($0)" } ?? "by level")"
            + " (zstd level \(o.zstdLevel); no snappy), L0 trigger"
            + " \(o.level0CompactionTrigger), 1 flush + 1 compaction thread)"
            + " + block cache \(o.blockCacheCapacity >> 20) MiB + Bloom filter"
            + " \(o.bloomBitsPerKey) bits/key"
    }

    func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sync: Bool) throws {
        try db.put(bytes: key, value, options: WriteOptions(sync: sync))
    }

    // The borrowing get: the key is read in place, as the peers' C APIs read a slice; the value
    // is still copied out into an array, as `rocksdb_get` and `leveldb_get` copy theirs.
    func get(_ key: UnsafeRawBufferPointer) throws -> Int? {
        try db.get(bytes: key)?.count
    }

    func delete(_ key: UnsafeRawBufferPointer) throws {
        try db.delete(Array(key))
    }

    func writeBatch(
        count: Int, entry: (Int) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    ) throws {
        var batch = WriteBatch()
        for i in 0..<count {
            let (key, value) = entry(i)
            batch.put(bytes: key, value)
        }
        try db.write(batch)
    }

    func makeCursor() throws -> any EngineCursor {
        // STORAGE_BENCH_STATS=1: the level shape the cursor reads (compactions may still run).
        if getenv("STORAGE_BENCH_STATS") != nil {
            FileHandle.standardError.write(Data("  [osmanthus cursor on] \(levelShape())\n".utf8))
        }
        return Cursor(db.makeIterator())
    }

    private func levelShape() -> String {
        zip(db.levelFileCounts, db.levelSizes).enumerated().filter { $0.element.0 > 0 }
            .map { "L\($0.offset): \($0.element.0) files \($0.element.1 >> 10) KiB" }.joined(separator: ", ")
    }

    func close() throws {
        // STORAGE_BENCH_STATS=1: the engine's own counters and level shapes, to stderr, so
        // write stalls, fsyncs per write and compaction work can be read next to the timings.
        if getenv("STORAGE_BENCH_STATS") != nil {
            let counters = db.statistics.all.filter { $0.1 != 0 }.map { "\($0.0)=\($0.1)" }
            FileHandle.standardError.write(
                Data("  [osmanthus stats] \(counters.joined(separator: " "))\n  [osmanthus levels] \(levelShape())\n".utf8))
        }
        try db.close()
    }

    private final class Cursor: EngineCursor {
        private let iterator: DBIterator
        init(_ iterator: DBIterator) { self.iterator = iterator }

        var isValid: Bool { iterator.isValid }
        func seekToFirst() { iterator.seekToFirst() }
        // The borrowing seek: LevelDB's and RocksDB's take a slice too.
        func seek(_ key: UnsafeRawBufferPointer) { iterator.seek(bytes: key) }
        func next() { iterator.next() }
        // Borrowed bytes: the cursor's sizes without copying key and value out.
        func entrySize() -> Int { iterator.withKey { $0.count } + iterator.withValue { $0.count } }
        func close() throws {
            if let error = iterator.error { throw BenchError("osmanthus iterator: \(error)") }
        }
    }
}
